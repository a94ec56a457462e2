import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import type { Launcher, WorkerExit } from '../launcher/launcher.ts';
import { readManifest } from '../protocol/output-manifest.ts';
import { ChangeSignal } from './change-signal.ts';
import { JobCompletion } from './job-completion.ts';
import { layoutForOutput, reducePartPath } from './job-layout.ts';
import { JobPhases } from './job-phases.ts';
import { JobTasks } from './job-tasks.ts';
import { WorkerPool } from './worker-pool.ts';

/** A launcher with nothing to stop: the completion only asks it to stop everyone at commit. */
class StubLauncher implements Launcher {
  stopAllCalls = 0;
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  startWorker(): void {}
  stopWorker(): void {}
  stopAll(): Promise<void> {
    this.stopAllCalls++;
    return Promise.resolve();
  }
}

function job(t: { after: (f: () => void) => void }) {
  const output = mkdtempSync(join(tmpdir(), 'torpedo-completion-'));
  t.after(() => rmSync(output, { recursive: true, force: true }));
  const layout = layoutForOutput(output);
  const tasks = new JobTasks([{ file: 'in.txt', start: 0, end: 10 }], 1, false);
  const phases = new JobPhases(false);
  const launcher = new StubLauncher();
  const workers = new WorkerPool(launcher, { workers: 1, deathBudget: 3 });
  const completion = new JobCompletion({ phases, tasks, workers, layout, reducers: 1, changes: new ChangeSignal(), stopGraceMs: 10 });
  const finish = (kind: 'map' | 'reduce'): void => {
    const table = tasks.tables[kind];
    const task = table.nextPending();
    assert.ok(task !== undefined);
    table.succeed(task, table.assign(task, 'w-1', 0), 1);
  };
  return { output, layout, tasks, phases, launcher, completion, finish };
}

test('advance moves map → reduce as tasks finish, then commits: parts moved, _SUCCESS, _temporary gone, ended settles', async (t) => {
  const { output, layout, phases, launcher, completion, finish } = job(t);
  completion.advance();
  assert.equal(phases.current, 'map', 'nothing done yet');
  finish('map');
  completion.advance();
  assert.equal(phases.current, 'reduce');
  mkdirSync(layout.reduce, { recursive: true });
  writeFileSync(reducePartPath(layout, 0), 'a\t1\n');
  finish('reduce');
  completion.advance();
  completion.advance(); // a second report while committing does not commit twice
  await completion.ended;
  assert.equal(phases.current, 'succeeded');
  assert.equal(completion.error, undefined);
  assert.deepEqual(readdirSync(output).sort(), ['_SUCCESS', 'part-r-00000']);
  assert.deepEqual(await readManifest(output), { format: 'torpedo-manifest-1', algorithm: 'crc32', parts: [{ name: 'part-r-00000', bytes: 4, crc32: crc32('a\t1\n').toString(16).padStart(8, '0') }] });
  assert.equal(launcher.stopAllCalls, 1, 'local workers are stopped once, before the commit');
});

test('the first failure is the job error; later ones and moves after the end are ignored', async (t) => {
  const { phases, completion } = job(t);
  completion.fail({ code: 'TORPEDO_ERR_TASK_FAILED', message: 'first' });
  completion.fail({ code: 'TORPEDO_ERR_CANCELLED', message: 'second' });
  await completion.ended;
  assert.equal(phases.current, 'failed');
  assert.deepEqual(completion.error, { code: 'TORPEDO_ERR_TASK_FAILED', message: 'first' });
});

test('a job commit that finds a part missing fails the job and names the file', async (t) => {
  const { output, layout, phases, completion, finish } = job(t);
  finish('map');
  finish('reduce');
  completion.advance();
  await completion.ended;
  assert.equal(phases.current, 'failed');
  assert.match(completion.error?.message ?? '', /job commit failed: .*part-r-00000 is missing/);
  assert.equal(existsSync(join(output, '_SUCCESS')), false, 'no _SUCCESS for a failed commit');
  assert.ok(layout.workDir.startsWith(output));
});
