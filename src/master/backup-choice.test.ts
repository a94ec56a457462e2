import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseBackup } from './backup-choice.ts';
import { FakeClock } from './clock.ts';
import { JobTasks } from './job-tasks.ts';

const MB = 1 << 20;
const HEARTBEAT_MS = 200;

/** Four map tasks of 64 MB each; the first three finish in 2 s on w1..w3, the fourth runs on w4. */
function phaseWithOneStraggler(clock: FakeClock, bytesRead: number) {
  const splits = Array.from({ length: 4 }, (_, i) => ({ file: '/in', start: i * 64 * MB, end: (i + 1) * 64 * MB }));
  const tasks = new JobTasks(splits, 1, false);
  const table = tasks.tables.map;
  const [a, b, c, d] = table.tasks;
  const attempts = [a, b, c, d].map((t, i) => table.assign(t!, `w${i + 1}`, clock.now()));
  clock.advance(2000);
  for (const [i, t] of [a, b, c].entries()) table.succeed(t!, attempts[i]!, clock.now());
  attempts[3]!.bytes = bytesRead;
  return { table, straggler: d! };
}

test('no backup before any attempt of the phase finished', () => {
  const clock = new FakeClock();
  const tasks = new JobTasks([{ file: '/in', start: 0, end: 10 }], 1, false);
  tasks.tables.map.assign(tasks.tables.map.tasks[0]!, 'w1', clock.now());
  clock.advance(60_000);
  assert.equal(chooseBackup(tasks.tables.map.tasks, 'w2', clock.now(), HEARTBEAT_MS), undefined);
});

test('a map task projected past twice the median is backed up, on another worker only', () => {
  const clock = new FakeClock();
  const { table, straggler } = phaseWithOneStraggler(clock, 8 * MB); // 1/8 read in 2 s: 16 s projected
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), HEARTBEAT_MS), straggler);
  assert.equal(chooseBackup(table.tasks, 'w4', clock.now(), HEARTBEAT_MS), undefined, 'not on its own worker');
});

test('a map task on pace is left alone', () => {
  const clock = new FakeClock();
  const { table } = phaseWithOneStraggler(clock, 60 * MB); // nearly done in the median time
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), HEARTBEAT_MS), undefined);
});

test('a map task that read nothing is stuck only after two silent heartbeats', () => {
  const clock = new FakeClock();
  const { table, straggler } = phaseWithOneStraggler(clock, 0);
  // 2 s elapsed > 2 heartbeats: projected to never end.
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), HEARTBEAT_MS), straggler);
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), 5000), undefined, 'too early to tell with 5 s heartbeats');
});

test('a task with a backup already is not backed up again', () => {
  const clock = new FakeClock();
  const { table, straggler } = phaseWithOneStraggler(clock, 8 * MB);
  table.assign(straggler, 'w5', clock.now());
  assert.equal(chooseBackup(table.tasks, 'w6', clock.now(), HEARTBEAT_MS), undefined);
});

test('reduce tasks are projected from elapsed time; the one projected last is chosen', () => {
  const clock = new FakeClock();
  const tasks = new JobTasks([], 4, false);
  const table = tasks.tables.reduce;
  const [a, b, c, d] = table.tasks;
  const first = table.assign(a!, 'w1', clock.now());
  clock.advance(1000);
  table.succeed(a!, first, clock.now()); // median 1 s
  table.assign(b!, 'w2', clock.now());
  clock.advance(500);
  table.assign(c!, 'w3', clock.now());
  table.assign(d!, 'w4', clock.now());
  clock.advance(1000); // b: 1.5 s, c and d: 1 s
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), HEARTBEAT_MS), undefined, 'none past twice the median');
  clock.advance(1000); // b: 2.5 s, c, d: 2 s
  assert.equal(chooseBackup(table.tasks, 'w5', clock.now(), HEARTBEAT_MS), b);
});

test('nothing is backed up before it ran a second, however quick its peers were', () => {
  const clock = new FakeClock();
  const tasks = new JobTasks([], 2, false);
  const table = tasks.tables.reduce;
  const [a, b] = table.tasks;
  const first = table.assign(a!, 'w1', clock.now());
  clock.advance(10);
  table.succeed(a!, first, clock.now()); // median 10 ms
  table.assign(b!, 'w2', clock.now());
  clock.advance(900);
  assert.equal(chooseBackup(table.tasks, 'w3', clock.now(), HEARTBEAT_MS), undefined);
  clock.advance(200);
  assert.equal(chooseBackup(table.tasks, 'w3', clock.now(), HEARTBEAT_MS), b);
});
