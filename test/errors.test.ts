import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

/** Every error a user can make gets a clear message, a non-zero exit, and touches nothing stored. */
let dir: string;
let input: string;
let out: string;
const JOBS = join(ROOT, 'test', 'jobs');

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  writeFileSync(input, 'alpha beta\nPOISON here\ngamma\n');
  out = join(dir, 'existing-output');
  mkdirSync(out);
  writeFileSync(join(out, 'precious.txt'), 'keep me');
});
after(() => removeDir(dir));

/** Runs the CLI expecting failure before any task; checks code, message, and that `out` is intact. */
async function expectRefusal(args: string[], code: string, pattern: RegExp): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(code));
  assert.match(r.stderr, pattern);
  assert.equal(readFileSync(join(out, 'precious.txt'), 'utf8'), 'keep me', 'nothing overwritten');
  return r.stderr;
}

describe('refused before any task runs', () => {
  it('a job file that does not exist', async () => {
    await expectRefusal(['run', join(dir, 'nope.ts'), '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_JOB_NOT_FOUND', /nope\.ts/);
  });
  it('a name that is no example', async () => {
    await expectRefusal(['run', 'wordcont', '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_JOB_NOT_FOUND', /wordcount, grep/);
  });
  it('a syntax error, with file:line', async () => {
    await expectRefusal(['run', join(JOBS, 'syntax-error.ts'), '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_JOB_SYNTAX', /syntax-error\.ts:5:\d+/);
  });
  it('a type error, with file:line', async () => {
    await expectRefusal(['run', join(JOBS, 'type-error.ts'), '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_JOB_SYNTAX', /type-error\.ts:5:\d+: error TS2345/);
  });
  it('a module without reduce', async () => {
    await expectRefusal(['run', join(JOBS, 'no-reduce.mjs'), '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_JOB_SHAPE', /no `reduce` function/);
  });
  it('an input that does not exist', async () => {
    await expectRefusal(['run', 'wordcount', '--input', join(dir, 'missing'), '--output', out, '--force'], 'TORPEDO_ERR_INPUT_NOT_FOUND', /missing.*does not exist/);
  });
  it('an input that is not a regular file', async () => {
    await expectRefusal(['run', 'wordcount', '--input', '/dev/null', '--output', out, '--force'], 'TORPEDO_ERR_INPUT_NOT_FOUND', /not a regular file/);
  });
  it('an output that exists, without --force', async () => {
    await expectRefusal(['run', 'wordcount', '--input', input, '--output', out], 'TORPEDO_ERR_OUTPUT_EXISTS', /--force/);
  });
  it('an output inside the input, even with --force', async () => {
    await expectRefusal(['run', 'wordcount', '--input', dir, '--output', join(out, 'x'), '--force'], 'TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT', /overlaps/);
    await expectRefusal(['run', 'wordcount', '--input', input, '--output', input, '--force'], 'TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT', /overlaps/);
  });
  for (const [flag, value, pattern] of [
    // --reducers 0 is a map-only job (test/map-only.test.ts).
    ['--reducers', 'four', /not a whole number/],
    ['--reducers', '1.5', /not a whole number/],
    ['--workers', '-1', /not a positive integer/],
    ['--split-size', '12 parsecs', /not a size/],
    ['--memory', '0', /at least 1 byte|not a size/],
    ['--param', 'novalue', /not key=value/],
  ] as const) {
    it(`${flag} ${value}`, async () => {
      const r = await runCli(['run', 'wordcount', '--input', input, '--output', out, '--force', flag, value]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, pattern);
      assert.equal(readFileSync(join(out, 'precious.txt'), 'utf8'), 'keep me');
    });
  }
  it('grep without its pattern parameter (test/fail-fast.test.ts has more)', async () => {
    await expectRefusal(['run', 'grep', '--input', input, '--output', out, '--force'], 'TORPEDO_ERR_BAD_FLAG', /grep needs the parameter "pattern" .*--param pattern=VALUE/);
  });
  it('--split-size and --maps together', async () => {
    const r = await runCli(['run', 'wordcount', '--input', input, '--output', out, '--force', '--maps', '2', '--split-size', '1MB']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot be used with/);
  });
});

describe('failures while running', () => {
  it("user code that throws: the job fails naming the job file, the message, the stack and the record's byte and line", async () => {
    const o = join(dir, 'throws-out');
    const r = await runCli(['run', join(JOBS, 'throws.mjs'), '--input', input, '--output', o, '--json', '--max-attempts', '2']);
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['status'], 'failed');
    assert.equal(s['error']['code'], 'TORPEDO_ERR_USER_CODE');
    assert.match(s['error']['message'], /throws\.mjs: map threw in .*in\.txt at byte 11 \(line 2\): poisoned record: POISON here/);
    assert.match(s['error']['message'], /failed 2 times/);
    assert.match(s['error']['stack'], /throws\.mjs:\d+/);
    assert.equal(s['error']['file'], input);
    assert.equal(s['error']['offset'], 11);
    assert.equal(s['phases']['map']['failedAttempts'], 2);
    assert.ok(!existsSync(join(o, '_SUCCESS')));
    assert.match(r.stderr, /job failed/);
  });
  it('partition returning an out-of-range number', async () => {
    const o = join(dir, 'partition-out');
    const r = await runCli(['run', join(JOBS, 'bad-partition.mjs'), '--input', input, '--output', o, '--json', '--reducers', '3']);
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_PARTITION_RANGE');
    assert.match(s['error']['message'], /returned 7; it must be an integer in \[0, 3\)/);
  });
  it('user code that hangs its worker: the worker is replaced, and after 4 lost attempts the job fails (no hang)', async () => {
    const inp = join(dir, 'hang.txt');
    writeFileSync(inp, 'fine\nHANG here\nfine too\n');
    const r = await runCli(['run', join(JOBS, 'hangs.mjs'), '--input', inp, '--output', join(dir, 'hang-out'), '--json', '--lease-timeout', '800', '--workers', '2'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_WORKER_LOST');
    assert.match(s['error']['message'], /map-00000 lost its worker 4 times \(last: no heartbeat from w\d+ for 800 ms\)/);
  });
  it('user code that calls process.exit(): after 4 lost attempts the job fails with the reason', async () => {
    const inp = join(dir, 'exit.txt');
    writeFileSync(inp, 'fine\nEXIT here\n');
    const r = await runCli(['run', join(JOBS, 'exits.mjs'), '--input', inp, '--output', join(dir, 'exit-out'), '--json'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_WORKER_LOST');
    assert.match(s['error']['message'], /map-00000 lost its worker 4 times \(last: worker w\d+ exited \(code 3\)\)/);
  });
  it('an attempt that runs longer than --task-timeout is stopped and retried, then the job fails (no hang)', async () => {
    const inp = join(dir, 'sleep.txt');
    writeFileSync(inp, 'fine\nSLEEP here\n');
    const started = Date.now();
    const r = await runCli(['run', join(JOBS, 'sleeps.mjs'), '--input', inp, '--output', join(dir, 'sleep-out'), '--json', '--task-timeout', '700', '--max-attempts', '2'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.ok(Date.now() - started < 15_000, 'bounded by the timeout, not by the sleep');
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_TASK_TIMEOUT');
    assert.match(s['error']['message'], /map-00000 failed 2 times; last error: map-00000 attempt 1 ran longer than the task timeout \(700 ms\)/);
    assert.equal(s['phases']['map']['failedAttempts'], 2);
  });
  it('a timed-out attempt is retried, and the retry completes the job', async () => {
    const inp = join(dir, 'sleep-once.txt');
    writeFileSync(inp, 'fine\nSLEEP here\n');
    const o = join(dir, 'sleep-once-out');
    const r = await runCli(['run', join(JOBS, 'sleeps-first-attempt.mjs'), '--input', inp, '--output', o, '--json', '--task-timeout', '700'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.equal(s['phases']['map']['failedAttempts'], 1);
    assert.deepEqual(readParts(o), ['SLEEP here\nfine\n']);
  });
  it('a task that exceeds --worker-memory fails with the reason, is retried, and the job ends', async () => {
    const inp = join(dir, 'hoard.txt');
    writeFileSync(inp, 'fine\nHOARD\n');
    const r = await runCli(['run', join(JOBS, 'hoards.mjs'), '--input', inp, '--output', join(dir, 'hoard-out'), '--json', '--worker-memory', '64MB', '--max-attempts', '2'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_OUT_OF_MEMORY');
    assert.match(s['error']['message'], /map-00000 failed 2 times; last error: worker w\d+ ran out of memory/);
  });
  it('user code writing to stdout and stderr changes nothing', async () => {
    const inp = join(dir, 'chatty.txt');
    writeFileSync(inp, 'b\na\nccc\n');
    const o = join(dir, 'chatty-out');
    const r = await runCli(['run', join(JOBS, 'chatty.mjs'), '--input', inp, '--output', o, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonSummary(r)['status'], 'succeeded');
    assert.deepEqual(readParts(o), ['a\t1\nb\t1\nccc\t3\n']);
  });
  it('a line longer than --max-record-size fails naming its file and byte', async () => {
    const inp = join(dir, 'long.txt');
    writeFileSync(inp, `short\n${'x'.repeat(5000)}\nshort\n`);
    const r = await runCli(['run', 'wordcount', '--input', inp, '--output', join(dir, 'long-out'), '--json', '--max-record-size', '4KiB', '--max-attempts', '1']);
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['error']['code'], 'TORPEDO_ERR_RECORD_TOO_LARGE');
    assert.match(s['error']['message'], /long\.txt at byte 6: a line longer than the maximum record size \(4096 bytes\)/);
    const ok = await runCli(['run', 'wordcount', '--input', inp, '--output', join(dir, 'long-ok'), '--max-record-size', '8KiB']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
