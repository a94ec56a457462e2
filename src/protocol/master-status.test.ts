import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobTasks } from '../master/job-tasks.ts';
import { progressOf, snapshotOf } from '../master/job-snapshot.ts';
import { summarize } from '../master/job-summary.ts';
import { JobCounters } from '../master/task-counters.ts';
import { parseMasterStatus, type MasterStatus } from './master-status.ts';

// The values come from the master's own functions (what `torpedo master --status-file` writes),
// so a field the master reports and the schema does not know shows up here as a difference.
function runningJob(): { tasks: JobTasks; counters: JobCounters } {
  const tasks = new JobTasks(
    [
      { file: '/in/a.txt', start: 0, end: 100 },
      { file: '/in/a.txt', start: 100, end: 150 },
      { file: '/in/b.txt', start: 0, end: 70 },
    ],
    2,
    true,
  );
  const { setup, map } = tasks.tables;
  const s = setup.tasks[0]!;
  setup.succeed(s, setup.assign(s, 'w1', 1000), 1100);
  const [m0, m1, m2] = [map.tasks[0]!, map.tasks[1]!, map.tasks[2]!];
  map.succeed(m0, map.assign(m0, 'w1', 1200), 1300);
  map.fail(m1, map.assign(m1, 'w2', 1200), 1250, 'TORPEDO_ERR_USER_CODE: boom', 4);
  map.lose(m1, map.assign(m1, 'w3', 1260), 1400, { kind: 'signal', workerId: 'w3', signal: 'SIGKILL' });
  map.assign(m1, 'w1', 1410).bytes = 20;
  map.assign(m2, 'w2', 1420);
  const counters = new JobCounters();
  counters.record('map-00000', { 'map input records': 12 }, { words: 40 });
  return { tasks, counters };
}

const roundTrip = (status: MasterStatus): { written: unknown; read: MasterStatus } => {
  const text = JSON.stringify(status);
  return { written: JSON.parse(text) as unknown, read: parseMasterStatus(text, '/jobs/j/master-status.json') };
};

test('a running status, as the master writes it, reads back whole', () => {
  const { tasks, counters } = runningJob();
  const { written, read } = roundTrip({ state: 'running', updatedAt: 1500, progress: progressOf('map', tasks), snapshot: snapshotOf('map', tasks, counters) });
  assert.deepEqual(read, written);
  assert.equal(read.snapshot?.tasks.find((t) => t.kind === 'map' && t.index === 1)?.attempts.length, 3);
  assert.equal(read.progress?.phases.map.total, 3);
});

test('a final status with its summary (and error) reads back whole', () => {
  const { tasks, counters } = runningJob();
  const summary = summarize({
    jobId: 'job-1',
    jobName: 'wordcount',
    status: 'failed',
    wallMs: 2500,
    inputBytes: tasks.inputBytes,
    output: '/out',
    tables: tasks.tables,
    counters: counters.counters,
    userCounters: counters.userCounters,
    workerRss: new Map([['w1', 50e6]]),
    error: { code: 'TORPEDO_ERR_TASK_FAILED', message: 'map-00001 failed 4 times' },
  });
  const { written, read } = roundTrip({ state: 'failed', updatedAt: 3000, progress: progressOf('failed', tasks), snapshot: snapshotOf('failed', tasks, counters), summary });
  assert.deepEqual(read, written);
  assert.equal(read.summary?.error?.code, 'TORPEDO_ERR_TASK_FAILED');
});

test('the status of a master that never started has only its state and time', () => {
  assert.deepEqual(parseMasterStatus('{"state":"failed","updatedAt":1}', 'f'), { state: 'failed', updatedAt: 1 });
});

test('a truncated status file is a CORRUPT_DATA error naming the file', () => {
  const { tasks, counters } = runningJob();
  const text = JSON.stringify({ state: 'running', updatedAt: 1, snapshot: snapshotOf('map', tasks, counters) });
  assert.throws(() => parseMasterStatus(text.slice(0, text.length / 2), '/jobs/j/master-status.json'), {
    code: 'TORPEDO_ERR_CORRUPT_DATA',
    message: /status file \/jobs\/j\/master-status\.json is not JSON .*truncated/,
  });
});

test('a status file of the wrong shape is refused at the first wrong field', () => {
  const bad = (value: unknown, where: RegExp): void => {
    assert.throws(() => parseMasterStatus(JSON.stringify(value), 'f'), { code: 'TORPEDO_ERR_CORRUPT_DATA', message: where });
  };
  bad([], /at the top level/);
  bad({ updatedAt: 1 }, /at state/);
  bad({ state: 'paused', updatedAt: 1 }, /at state/);
  bad({ state: 'running', updatedAt: '1' }, /at updatedAt/);
  const { tasks, counters } = runningJob();
  const snapshot = snapshotOf('map', tasks, counters);
  bad({ state: 'running', updatedAt: 1, snapshot: { ...snapshot, tasks: [{ ...snapshot.tasks[0], state: 'lost' }] } }, /at snapshot\.tasks\.0\.state/);
  bad({ state: 'running', updatedAt: 1, progress: { ...progressOf('map', tasks), phases: { map: { done: 1, total: 3 } } } }, /at progress\.phases\.(setup|reduce)/);
});
