import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Launcher, WorkerExit } from '../launcher/launcher.ts';
import { MAX_DEATHS_PER_WORKER, WorkerPool } from './worker-pool.ts';

/** A launcher that only writes down what it is asked to do. */
class StubLauncher implements Launcher {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  stopAllCalls = 0;
  onExit: (workerId: string, info: WorkerExit) => void = () => {};

  startWorker(workerId: string, masterUrl: string, token: string): void {
    assert.equal(masterUrl, 'http://127.0.0.1:1');
    assert.equal(token, 't');
    this.started.push(workerId);
  }

  stopWorker(workerId: string): void {
    this.stopped.push(workerId);
  }

  stopAll(): Promise<void> {
    this.stopAllCalls++;
    return Promise.resolve();
  }
}

/** A pool launcher (a Kubernetes Job): it starts all workers at once, and names none. */
class StubPoolLauncher implements Launcher {
  pools: number[] = [];
  onExit: (workerId: string, info: WorkerExit) => void = () => {};

  startPool(workers: number): Promise<void> {
    this.pools.push(workers);
    return Promise.resolve();
  }

  stopWorker(): void {}

  stopAll(): Promise<void> {
    return Promise.resolve();
  }
}

test('starts W workers with ids of its own, and keeps W live by replacing the dead', async () => {
  const launcher = new StubLauncher();
  const pool = new WorkerPool(launcher, { workers: 3, deathBudget: 10 });
  assert.equal(pool.selfManaged, false);
  await pool.start('http://127.0.0.1:1', 't');
  assert.deepEqual(launcher.started, ['w1', 'w2', 'w3']);
  assert.deepEqual([...pool.live], ['w1', 'w2', 'w3']);
  pool.exited('w2');
  assert.equal(pool.died('w2', null), true);
  assert.deepEqual(launcher.started, ['w1', 'w2', 'w3', 'w4'], 'a replacement, never an id used before');
  assert.deepEqual([...pool.live].sort(), ['w1', 'w3', 'w4']);
});

test('deaths of the workers own doing beyond the budget stop the replacing', async () => {
  const launcher = new StubLauncher();
  const pool = new WorkerPool(launcher, { workers: 1, deathBudget: 2 });
  await pool.start('http://127.0.0.1:1', 't');
  for (const expected of [true, true, false]) {
    const id = launcher.started.at(-1) as string;
    pool.exited(id);
    assert.equal(pool.died(id, null), expected);
  }
  assert.equal(launcher.started.length, 3, 'no replacement once the budget is spent');
});

test('a registered worker killed by SIGKILL does not count, up to the hard cap', async () => {
  const launcher = new StubLauncher();
  const pool = new WorkerPool(launcher, { workers: 1, deathBudget: 0 });
  await pool.start('http://127.0.0.1:1', 't');
  let deaths = 0;
  for (;;) {
    const id = launcher.started.at(-1) as string;
    pool.registered(id);
    pool.exited(id);
    deaths++;
    if (!pool.died(id, 'SIGKILL')) break;
  }
  assert.equal(deaths, MAX_DEATHS_PER_WORKER + 1);
  // A worker that never registered and was SIGKILLed (it could not start) does count.
  const fresh = new WorkerPool(new StubLauncher(), { workers: 1, deathBudget: 0 });
  await fresh.start('http://127.0.0.1:1', 't');
  fresh.exited('w1');
  assert.equal(fresh.died('w1', 'SIGKILL'), false);
});

test('no replacement while W are live (a worker that the master stopped has been replaced already)', async () => {
  const launcher = new StubLauncher();
  const pool = new WorkerPool(launcher, { workers: 2, deathBudget: 10 });
  await pool.start('http://127.0.0.1:1', 't');
  pool.exited('w1');
  pool.died('w1', null);
  pool.died('w1', null); // a second report of the same death starts nobody: 2 are live
  assert.deepEqual(launcher.started, ['w1', 'w2', 'w3']);
  pool.stop('w2');
  assert.deepEqual(launcher.stopped, ['w2']);
  await pool.stopAll(10);
  assert.equal(launcher.stopAllCalls, 1);
});

test('a pool launcher starts the whole pool once; its workers are live from their first word and never replaced', async () => {
  const launcher = new StubPoolLauncher();
  const pool = new WorkerPool(launcher, { workers: 2, deathBudget: 10 });
  assert.equal(pool.selfManaged, true);
  await pool.start('http://127.0.0.1:1', 't');
  assert.deepEqual(launcher.pools, [2]);
  assert.equal(pool.live.size, 0);
  pool.registered('pod-a');
  pool.registered('pod-b');
  assert.deepEqual([...pool.live], ['pod-a', 'pod-b']);
  pool.exited('pod-a');
  assert.equal(pool.died('pod-a', null), true);
  assert.deepEqual([...pool.live], ['pod-b']);
});

test('drain waits for each live pool worker to be told to exit, and no longer than its limit', async () => {
  const pool = new WorkerPool(new StubPoolLauncher(), { workers: 2, deathBudget: 10 });
  pool.registered('pod-a');
  pool.registered('pod-b');
  pool.toldToExit('pod-a');
  setTimeout(() => pool.toldToExit('pod-b'), 60);
  const t0 = performance.now();
  await pool.drain(5000);
  const waited = performance.now() - t0;
  assert.ok(waited >= 50 && waited < 1000, `drained after ${waited} ms`);
  pool.registered('pod-c');
  const t1 = performance.now();
  await pool.drain(100);
  assert.ok(performance.now() - t1 < 1000, 'a worker that never asks does not hold the end up');
});
