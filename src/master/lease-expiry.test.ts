import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from './clock.ts';
import { JobTasks } from './job-tasks.ts';
import { expiredAttempts, expiryCheckMs } from './lease-expiry.ts';
import { lostTooOften, LOST_ATTEMPTS_LIMIT, LOST_ATTEMPTS_LIMIT_ANY_CAUSE } from './lost-attempts.ts';

test('an attempt is lost after a lease without heartbeat, and times out past the task limit', () => {
  const clock = new FakeClock();
  const tasks = new JobTasks([], 3, false);
  const table = tasks.tables.reduce;
  const [a, b, c] = table.tasks.map((t, i) => table.assign(t, `w${i + 1}`, clock.now()));
  clock.advance(4000);
  a!.lastHeartbeat = clock.now();
  b!.lastHeartbeat = clock.now() - 3500;
  c!.lastHeartbeat = clock.now();
  assert.deepEqual(
    expiredAttempts(tasks.running(), clock.now(), 3000, 0).map((e) => [e.running.attempt.workerId, e.cause]),
    [['w2', { kind: 'lease', workerId: 'w2', silentMs: 3000 }]],
  );
  assert.deepEqual(
    expiredAttempts(tasks.running(), clock.now(), 3000, 3900).map((e) => [e.running.attempt.workerId, e.cause.kind]),
    [
      ['w1', 'timeout'],
      ['w2', 'timeout'],
      ['w3', 'timeout'],
    ],
    'past the limit is a timeout, silent or not',
  );
  assert.equal(expiryCheckMs(3000, 0), 1000);
  assert.equal(expiryCheckMs(600, 0), 300);
  assert.equal(expiryCheckMs(3000, 200), 100);
});

test('a task that keeps losing its worker fails the job: sooner when it may be its own doing', () => {
  const clock = new FakeClock();
  const tasks = new JobTasks([{ file: '/in', start: 0, end: 1 }], 1, false);
  const table = tasks.tables.map;
  const task = table.tasks[0]!;
  const lose = (signal: string | null): void => {
    const a = table.assign(task, 'w', clock.now());
    table.lose(task, a, clock.now(), signal === null ? { kind: 'exit', workerId: 'w', code: 1 } : { kind: 'signal', workerId: 'w', signal });
  };
  for (let i = 1; i < LOST_ATTEMPTS_LIMIT; i++) lose(null);
  assert.equal(lostTooOften(task, true), undefined);
  lose(null);
  assert.match(lostTooOften(task, true)?.message ?? '', /map-00000 lost its worker 4 times \(last: worker w exited \(code 1\)\); it may crash/);
  assert.equal(lostTooOften(task, false), undefined, 'the last loss was a kill from outside');

  const killed = new JobTasks([{ file: '/in', start: 0, end: 1 }], 1, false).tables.map;
  const victim = killed.tasks[0]!;
  for (let i = 0; i < LOST_ATTEMPTS_LIMIT_ANY_CAUSE; i++) {
    assert.equal(lostTooOften(victim, false), undefined);
    const a = killed.assign(victim, 'w', clock.now());
    killed.lose(victim, a, clock.now(), { kind: 'signal', workerId: 'w', signal: 'SIGKILL' });
  }
  assert.match(lostTooOften(victim, true)?.message ?? '', /lost its worker 12 times .*something keeps killing/);
});
