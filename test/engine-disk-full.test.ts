// A full disk under the engine (issue 20, the engine's side; the manager's is manager-disk-full):
// `torpedo run` writes its output to a small tmpfs (the tests run as root in CI) that is full at
// a chosen point. Every write path fails with TORPEDO_ERR_NO_SPACE naming the file, nothing
// half-written stays, the master never hangs, and `--resume` after freeing space gives the output
// of a clean run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Launcher, WorkerExit } from '../src/launcher/launcher.ts';
import { ChangeSignal } from '../src/master/change-signal.ts';
import { JobCompletion } from '../src/master/job-completion.ts';
import { layoutForOutput, reducePartPath } from '../src/master/job-layout.ts';
import { JobPhases } from '../src/master/job-phases.ts';
import { JobTasks } from '../src/master/job-tasks.ts';
import { WorkerPool } from '../src/master/worker-pool.ts';
import { jsonSummary, removeDir, runCli, tempDir, type CliResult } from './helpers.ts';

const root = process.getuid?.() === 0;
/** Long enough for a run on a loaded CI machine, short enough that a hang fails the test. */
const RUN_TIMEOUT_MS = 60_000;

/** `n` distinct words, one per line: a word count's map output and part file are each about as large as its input. */
function distinctWords(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`word${i.toString(36)}x${(i * 7919).toString(36)}`);
  return `${lines.join('\n')}\n`;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** A job's failure as the CLI shows it: exit 1 (not a crash's 70), the code and a message naming `path`, no stack trace. */
function assertNoSpaceFailure(r: CliResult, path: RegExp): void {
  assert.equal(r.code, 1, `the usual job-failure exit code:\n${r.stderr}`);
  assert.match(r.stderr, /torpedo: job failed: TORPEDO_ERR_NO_SPACE .*no space left on the storage writing /);
  assert.match(r.stderr, path);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('a full disk under torpedo run', { skip: root ? false : 'mounting a small tmpfs needs root' }, () => {
  const dir = tempDir('torpedo-engine-disk-full-');
  const input = join(dir, 'words.txt');
  const mounts: string[] = [];
  let expected: Buffer;

  /** Mounts a tmpfs of `options` (e.g. `size=4m`) at `path`; unmounted at the end if not before. */
  const mount = (path: string, options: string): void => {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', path]);
    mounts.push(path);
  };
  const unmount = (path: string): void => {
    execFileSync('umount', [path]);
    mounts.splice(mounts.indexOf(path), 1);
  };
  const run = (out: string, ...extra: string[]): Promise<CliResult> =>
    runCli(['run', 'wordcount', '--input', input, '--output', out, '--reducers', '1', '--no-progress', ...extra], { timeoutMs: RUN_TIMEOUT_MS });

  before(async () => {
    writeFileSync(input, distinctWords(100_000)); // about 1.5 MB in; a 1.7 MB map output, a 1.5 MB part
    const clean = await run(join(dir, 'clean'));
    assert.equal(clean.code, 0, clean.stderr);
    expected = readFileSync(join(dir, 'clean', 'part-r-00000'));
  });
  after(() => {
    for (const path of mounts.reverse()) execFileSync('umount', ['-l', path]);
    removeDir(dir);
  });

  test('map outputs that do not fit: the job fails naming the file, keeps nothing of it; --resume after freeing space', { timeout: 4 * RUN_TIMEOUT_MS }, async () => {
    const disk = join(dir, 'map-disk');
    mount(disk, 'size=4m');
    const filler = join(disk, 'filler');
    writeFileSync(filler, Buffer.alloc(3000 * 1024)); // leaves about 1 MB: the job directory fits, the map output does not
    const out = join(disk, 'out');
    const failed = await run(out);
    assertNoSpaceFailure(failed, new RegExp(`map-00000 failed \\d+ times; last error: no space left on the storage writing ${out}/_temporary/map/\\S+ \\(ENOSPC\\)`));
    assert.deepEqual(filesUnder(join(out, '_temporary', 'map')), [], 'no map output, whole or half');
    assert.deepEqual(readdirSync(join(out, '_temporary', 'attempts')), [], 'the attempts removed their scratch space');
    assert.equal(existsSync(join(out, 'part-r-00000')), false);

    rmSync(filler);
    const resumed = await run(out, '--resume', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(readFileSync(join(out, 'part-r-00000')), expected, 'byte-identical to a clean run');
    assert.deepEqual(readdirSync(out).sort(), ['_SUCCESS', '_logs', 'part-r-00000']);
  });

  test('_temporary/counters/ full: the master does not hang, fails naming the file, leaves no tmp; --resume runs the map again', { timeout: 4 * RUN_TIMEOUT_MS }, async () => {
    const disk = join(dir, 'counters-disk');
    mount(disk, 'size=8m');
    const out = join(disk, 'out');
    // The job directory first, then a full tmpfs of its own on counters/, then the run itself.
    const prepared = await run(out, '--prepare-only');
    assert.equal(prepared.code, 0, prepared.stderr);
    const counters = join(out, '_temporary', 'counters');
    mount(counters, 'size=64k');
    writeFileSync(join(counters, 'filler'), Buffer.alloc(64 * 1024));

    const started = Date.now();
    const failed = await run(out, '--resume');
    assert.ok(Date.now() - started < RUN_TIMEOUT_MS / 2, 'ended well before the timeout');
    assertNoSpaceFailure(failed, new RegExp(`map-00000 was done, but the master could not note it: no space left on the storage writing ${counters}/map-00000\\.json \\(ENOSPC\\)`));
    assert.deepEqual(readdirSync(counters), ['filler'], 'no half-written counters file or tmp');
    assert.deepEqual(filesUnder(join(out, '_temporary', 'map')), [], 'the map output whose counters were not noted was taken back');

    unmount(counters); // space again (counters/ is the empty directory under the mount)
    const resumed = await run(out, '--resume', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = jsonSummary(resumed);
    assert.equal(summary['phases']['map']['reusedTasks'], 0, 'the map ran again');
    assert.equal(summary['counters']['map input records'], 100_000, 'and was counted');
    assert.deepEqual(readFileSync(join(out, 'part-r-00000')), expected, 'byte-identical to a clean run');
  });

  test('a part that does not fit: the job fails naming the file, no _SUCCESS, no part in the output; --resume after freeing space', { timeout: 4 * RUN_TIMEOUT_MS }, async () => {
    const disk = join(dir, 'reduce-disk');
    mount(disk, 'size=2m'); // the map output fits, the part does not
    const out = join(disk, 'out');
    const failed = await run(out);
    assertNoSpaceFailure(failed, new RegExp(`reduce-00000 failed \\d+ times; last error: no space left on the storage writing ${out}/_temporary/reduce/\\S+ \\(ENOSPC\\)`));
    assert.deepEqual(readdirSync(out).sort(), ['_logs', '_temporary'], 'no _SUCCESS, no part');
    assert.deepEqual(filesUnder(join(out, '_temporary', 'reduce')), [], 'no half-written part left');

    execFileSync('mount', ['-o', 'remount,size=8m', disk]);
    const resumed = await run(out, '--resume', '--json');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(jsonSummary(resumed)['phases']['map']['reusedTasks'], 1, 'the committed map output was kept');
    assert.deepEqual(readFileSync(join(out, 'part-r-00000')), expected, 'byte-identical to a clean run');
  });

  test('a job commit that cannot create _SUCCESS or its temporary file (no inode left) fails with TORPEDO_ERR_NO_SPACE; once there is room it commits', async () => {
    const disk = join(dir, 'commit-disk');
    mount(disk, 'size=1m,nr_inodes=64');
    const output = join(disk, 'out');
    const layout = layoutForOutput(output);
    mkdirSync(layout.reduce, { recursive: true });
    writeFileSync(reducePartPath(layout, 0), 'a\t1\n');
    const fillers = join(disk, 'fillers');
    mkdirSync(fillers);
    fillInodes(fillers);

    const first = completedJob(layout.output);
    await first.completion.ended;
    assert.equal(first.phases.current, 'failed');
    assert.equal(first.completion.error?.code, 'TORPEDO_ERR_NO_SPACE');
    assert.match(first.completion.error?.message ?? '', new RegExp(`job commit failed: no space left on the storage writing ${output}/(_temporary/)?_SUCCESS`));
    assert.equal(existsSync(join(output, '_SUCCESS')), false);
    assert.equal(readFileSync(join(output, 'part-r-00000'), 'utf8'), 'a\t1\n', 'a part in the output is whole: moved by a rename');

    rmSync(fillers, { recursive: true });
    const again = completedJob(layout.output); // as a resumed master: the part is found in the output
    await again.completion.ended;
    assert.equal(again.phases.current, 'succeeded', JSON.stringify(again.completion.error));
    assert.deepEqual(readdirSync(output).sort(), ['_SUCCESS', 'part-r-00000']);
  });
});

/** Creates empty files in `dir` until the file system has no inode left. */
function fillInodes(dir: string): void {
  for (let i = 0; i < 10_000; i++) {
    try {
      writeFileSync(join(dir, String(i)), '');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw e;
    }
  }
  assert.fail('the file system never ran out of inodes');
}

/** A launcher with nothing to stop: the completion only asks it to stop everyone at commit. */
class StubLauncher implements Launcher {
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  startWorker(): void {}
  stopWorker(): void {}
  stopAll(): Promise<void> {
    return Promise.resolve();
  }
}

/** A one-map, one-reduce job whose tasks are all done, started on its job commit (as in job-completion.test.ts). */
function completedJob(output: string): { phases: JobPhases; completion: JobCompletion } {
  const layout = layoutForOutput(output);
  const tasks = new JobTasks([{ file: 'in.txt', start: 0, end: 10 }], 1, false);
  const phases = new JobPhases(false);
  const workers = new WorkerPool(new StubLauncher(), { workers: 1, deathBudget: 3 });
  const completion = new JobCompletion({ phases, tasks, workers, layout, reducers: 1, changes: new ChangeSignal(), stopGraceMs: 10 });
  for (const kind of ['map', 'reduce'] as const) {
    const table = tasks.tables[kind];
    const task = table.nextPending();
    assert.ok(task !== undefined);
    table.succeed(task, table.assign(task, 'w-1', 0), 1);
    completion.advance();
  }
  return { phases, completion };
}
