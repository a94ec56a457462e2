// Attempts' logs that outlive the job (protocol/attempt-logs.ts): kept in OUTPUT/_logs after a job
// that succeeded and one that failed, capped, read back with `torpedo logs` (also while the job
// runs, --follow), never in the output, and shown by -v; path tricks are refused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isTorpedoError } from '../src/errors.ts';
import { listAttemptLogs, readAttemptLog } from '../src/protocol/attempt-logs.ts';
import { BIN, jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

const JOBS = join(ROOT, 'test', 'jobs');

describe('attempt logs', () => {
  let dir: string;
  let input: string;

  before(() => {
    dir = tempDir('torpedo-attempt-logs-');
    input = join(dir, 'in.txt');
    writeFileSync(input, 'hello\nworld\n');
  });
  after(() => removeDir(dir));

  test("a job that succeeded keeps each attempt's log: user code's stdout and stderr and the worker's lines, none of it in the output", async () => {
    const out = join(dir, 'ok');
    const r = await runCli(['run', join(JOBS, 'chatty.mjs'), '--input', input, '--output', out, '--workers', '1', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(out, '_temporary')), 'the commit removed _temporary/');
    assert.deepEqual(
      (await listAttemptLogs(out)).map((l) => l.attemptId),
      ['map-00000-a0', 'reduce-00000-a0'],
    );
    const map = readFileSync(join(out, '_logs', 'map-00000-a0.log'), 'utf8');
    assert.match(map, /^map saw hello$/m);
    assert.match(map, /^and a warning$/m);
    assert.match(map, /worker \S+: map-00000-a0 started/);
    assert.match(map, /worker \S+: map-00000-a0 done in \d+ ms/);
    assert.match(map, /^--- torpedo: map-00000-a0 succeeded ---$/m);
    assert.match(readFileSync(join(out, '_logs', 'reduce-00000-a0.log'), 'utf8'), /^reduce hello$/m);
    // The output is the job's pairs only, and the manifest check ignores _logs/ as it does _SUCCESS.
    assert.deepEqual(readParts(out), ['hello\t5\nworld\t5\n']);
    const v = await runCli(['verify', out]);
    assert.equal(v.code, 0, v.stdout + v.stderr);

    const shown = await runCli(['logs', out, 'map-00000']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, map);
    const all = await runCli(['logs', out]);
    assert.match(all.stdout, /^==> map-00000-a0 <==$/m);
    assert.match(all.stdout, /^==> reduce-00000-a0 <==$/m);
    const listed = await runCli(['logs', out, '--list', '--json']);
    assert.deepEqual(
      JSON.parse(listed.stdout).logs.map((l: { attemptId: string; bytes: number }) => [l.attemptId, l.bytes]),
      [
        ['map-00000-a0', statSync(join(out, '_logs', 'map-00000-a0.log')).size],
        ['reduce-00000-a0', statSync(join(out, '_logs', 'reduce-00000-a0.log')).size],
      ],
    );
  });

  test('a job that failed keeps the log of every attempt, with its error; --attempt N picks one', async () => {
    const poisoned = join(dir, 'poisoned.txt');
    writeFileSync(poisoned, 'fine\nPOISON here\n');
    const out = join(dir, 'failed');
    const r = await runCli(['run', join(JOBS, 'throws.mjs'), '--input', poisoned, '--output', out, '--workers', '1', '--max-attempts', '3', '--no-progress']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /torpedo logs \S+ \[TASK\]/, 'the failure says where the logs are');
    assert.deepEqual(
      (await listAttemptLogs(out)).map((l) => l.attemptId),
      ['map-00000-a0', 'map-00000-a1', 'map-00000-a2'],
    );
    const second = await runCli(['logs', out, 'map-00000', '--attempt', '1']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /map-00000-a1 failed: .*poisoned record: POISON here/);
    assert.match(second.stdout, /^--- torpedo: map-00000-a1 failed ---$/m);
    assert.doesNotMatch(second.stdout, /map-00000-a0/);
    const last = await runCli(['logs', out, 'map-00000']);
    assert.match(last.stdout, /^--- torpedo: map-00000-a2 failed ---$/m, 'without --attempt: the last attempt');
    const none = await runCli(['logs', out, 'map-00000', '--attempt', '7']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /TORPEDO_ERR_NOT_FOUND: attempt 7 of map-00000 has no log/);
  });

  test('--log-cap bounds a log, and its last line says how much was dropped', async () => {
    const out = join(dir, 'capped');
    const r = await runCli(['run', join(JOBS, 'shouts.mjs'), '--input', input, '--output', out, '--workers', '1', '--maps', '1', '--log-cap', '4KiB', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const log = readFileSync(join(out, '_logs', 'map-00000-a0.log'), 'utf8');
    const [tail, end] = log.trimEnd().split('\n').slice(-2);
    assert.ok(Buffer.byteLength(log) <= 4096 + 300, `${Buffer.byteLength(log)} bytes kept`);
    const dropped = Number(/^--- torpedo: (\d+) bytes dropped: the log reached its cap of 4 KiB \(--log-cap\) ---$/.exec(tail ?? '')?.[1]);
    // What the map wrote (2 × 2000 lines of ~100 bytes) and the worker's lines, less what was kept.
    assert.ok(dropped > 390_000 && dropped < 420_000, `dropped ${dropped}`);
    assert.equal(end, '--- torpedo: map-00000-a0 succeeded ---');
  });

  test("-v copies user code's stdout to torpedo's stderr too, never to its stdout or the output", async () => {
    const out = join(dir, 'verbose');
    const r = await runCli(['run', join(JOBS, 'chatty.mjs'), '--input', input, '--output', out, '--workers', '1', '-v', '--no-progress', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /map saw hello/);
    assert.match(r.stderr, /and a warning/);
    assert.doesNotMatch(r.stdout, /map saw/);
    assert.equal(jsonSummary(r).status, 'succeeded');
    assert.deepEqual(readParts(out), ['hello\t5\nworld\t5\n']);
  });

  test('--follow prints a running attempt as it writes and stops when the job ends', async () => {
    const lines = join(dir, 'ten.txt');
    writeFileSync(lines, Array.from({ length: 10 }, (_, i) => `line${i}`).join('\n') + '\n');
    const out = join(dir, 'followed');
    const run = spawn(process.execPath, [BIN, 'run', join(JOBS, 'logs-slowly.mjs'), '--input', lines, '--output', out, '--workers', '1', '--maps', '1', '--no-progress'], { stdio: 'ignore' });
    const ran = new Promise<number | null>((resolve) => run.on('close', resolve));
    const log = join(out, '_logs', 'map-00000-a0.log');
    for (let i = 0; !existsSync(log) || !readFileSync(log, 'utf8').includes('tick line0'); i++) {
      assert.ok(i < 300, 'the map attempt started writing its log');
      await new Promise((r) => setTimeout(r, 50));
    }
    const follow = runCli(['logs', out, 'map-00000', '--follow']);
    const [f, code] = await Promise.all([follow, ran]);
    assert.equal(code, 0);
    assert.equal(f.code, 0, f.stderr);
    for (let i = 0; i < 10; i++) assert.match(f.stdout, new RegExp(`^tick line${i}$`, 'm'));
    assert.match(f.stdout, /^--- torpedo: map-00000-a0 succeeded ---$/m);
  });

  test("a streaming mapper's stderr is kept in its attempt's log", async () => {
    const out = join(dir, 'streaming');
    const r = await runCli(['run', '--mapper', "echo 'mapper says hi' >&2; cat", '--reducer', 'cat', '--input', input, '--output', out, '--workers', '1', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(out, '_logs', 'map-00000-a0.log'), 'utf8'), /^mapper says hi$/m);
  });

  test('a task or attempt that is a path is refused; a link in _logs/ is not followed', async () => {
    const out = join(dir, 'ok');
    const r = await runCli(['logs', out, '../../etc/passwd']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"..\/..\/etc\/passwd" is not a task name such as map-00003/);
    await assert.rejects(readAttemptLog(out, '../../_SUCCESS'), (e) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_BAD_REQUEST' && /not an attempt id/.test(e.message));
    symlinkSync('/etc/passwd', join(out, '_logs', 'map-00009-a0.log'));
    await assert.rejects(readAttemptLog(out, 'map-00009-a0'), (e) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_NOT_FOUND');
    assert.ok(!(await listAttemptLogs(out)).some((l) => l.attemptId === 'map-00009-a0'));
    assert.ok(readdirSync(join(out, '_logs')).includes('map-00009-a0.log'));
  });
});
