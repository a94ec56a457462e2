// Errors that cannot succeed fail fast and read well (issue 19, section 4): parameters are checked
// before any task runs, errors no retry can fix are not retried, the error comes before the
// summary, positions read as positions, and users see their own stack frames, not torpedo's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, jsonSummary, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { ADMIN_PASSWORD, startTestManager, type TestManager } from './support/manager-harness.ts';

const JOBS = join(ROOT, 'test', 'jobs');
let dir: string;
let input: string;

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  writeFileSync(input, 'alpha beta\nPOISON here\ngamma\n');
});
after(() => removeDir(dir));

/** Runs the CLI with stdout and stderr into one file, to see what it printed first. */
async function runCliInterleaved(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const file = join(dir, `interleaved-${Date.now()}.txt`);
  const fd = openSync(file, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', fd, fd] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    return { code, output: readFileSync(file, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

describe('parameters are checked before any task runs', () => {
  it('grep without pattern: exit 2, the message names the parameter, no output directory', async () => {
    const out = join(dir, 'grep-out');
    const r = await runCli(['run', 'grep', '--input', input, '--output', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /TORPEDO_ERR_BAD_FLAG: grep needs the parameter "pattern" \(the regular expression .*\): give --param pattern=VALUE/);
    assert.ok(!existsSync(out), 'no output directory');
    assert.doesNotMatch(r.stderr, /setup|attempt|\bat .*\.ts:\d+/, 'no task ran, no stack');
  });

  it('an empty required parameter is refused like a missing one', async () => {
    const r = await runCli(['run', 'grep', '--input', input, '--output', join(dir, 'grep-empty'), '--param', 'pattern=']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs the parameter "pattern"/);
  });

  it('an unknown parameter is refused with the list of known ones', async () => {
    const out = join(dir, 'grep-unknown');
    const r = await runCli(['run', 'grep', '--input', input, '--output', out, '--param', 'pattern=a', '--param', 'flag=i']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /grep has no parameter "flag": it takes "pattern" \(required: .*\); "flags" \(optional: .*\)/);
    assert.ok(!existsSync(out));
    const wc = await runCli(['run', 'wordcount', '--input', input, '--output', out, '--param', 'x=1']);
    assert.equal(wc.code, 2);
    assert.match(wc.stderr, /wordcount has no parameter "x": it takes no parameters/);
  });

  it("a user job's declared params: checked the same way; given right, the job runs", async () => {
    const job = join(JOBS, 'declares-params.mjs');
    const missing = await runCli(['run', job, '--input', input, '--output', join(dir, 'declared-missing')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /declares-params\.mjs needs the parameter "mode" \(fast or slow\)/);
    const unknown = await runCli(['run', job, '--input', input, '--output', join(dir, 'declared-unknown'), '--param', 'mode=fast', '--param', 'limt=3']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no parameter "limt": it takes "mode" \(required: fast or slow\); "limit" \(optional: at most this many lines\)/);
    const ok = await runCli(['run', job, '--input', input, '--output', join(dir, 'declared-ok'), '--param', 'mode=fast', '--param', 'limit=3']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('errors no retry can fix are not retried', () => {
  it('a setup that throws a TypeError about its configuration fails after 1 attempt, not 3', async () => {
    const r = await runCli(['run', join(JOBS, 'setup-type-error.mjs'), '--input', input, '--output', join(dir, 'setup-out'), '--json', '--max-attempts', '3']);
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['phases']['setup']['attempts'], 1);
    assert.equal(s['phases']['setup']['failedAttempts'], 1);
    assert.equal(s['phases']['map']['attempts'], 0);
    assert.equal(s['error']['retryable'], false);
    assert.match(s['error']['message'], /setup-00000 failed and is not retried \(no retry can fix this error\): .*setup threw: config: mode must be/);
  });

  it('grep with a pattern that is no regular expression: its setup fails once', async () => {
    const r = await runCli(['run', 'grep', '--input', input, '--output', join(dir, 'grep-bad-re'), '--json', '--param', 'pattern=(']);
    assert.equal(r.code, 1);
    const s = jsonSummary(r);
    assert.equal(s['phases']['setup']['attempts'], 1);
    assert.match(s['error']['message'], /Invalid regular expression/);
  });

  it('a map that throws is still retried (the record may be skipped, the worker may be at fault)', async () => {
    const r = await runCli(['run', join(JOBS, 'throws.mjs'), '--input', input, '--output', join(dir, 'map-out'), '--json', '--max-attempts', '2']);
    assert.equal(jsonSummary(r)['phases']['map']['attempts'], 2);
  });
});

describe('errors read well', () => {
  it('a map that throws: "in FILE at byte N (line L)", its own stack frames only, the error before the summary', async () => {
    const r = await runCliInterleaved(['run', join(JOBS, 'throws.mjs'), '--input', input, '--output', join(dir, 'read-out'), '--max-attempts', '1', '--no-progress']);
    assert.equal(r.code, 1);
    assert.match(r.output, /map threw in .*in\.txt at byte 11 \(line 2\): poisoned record: POISON here/);
    assert.doesNotMatch(r.output, /in\.txt:11/);
    const failed = r.output.indexOf('torpedo: job failed');
    const summary = r.output.search(/^job .* failed in /m);
    assert.ok(failed !== -1 && summary !== -1 && failed < summary, r.output);
    // The user's frame (throws.mjs) is shown, torpedo's (src/worker/…, node_modules) are not.
    assert.match(r.output, /at map \(.*throws\.mjs:\d+:\d+\)/);
    assert.doesNotMatch(r.output, /src\/worker|src\/cli|node_modules|node:internal/);
  });

  it('a byte offset without a line number where the split does not start the file', async () => {
    const big = join(dir, 'big.txt');
    writeFileSync(big, `${'fine line\n'.repeat(200)}POISON late\n`);
    const r = await runCli(['run', join(JOBS, 'throws.mjs'), '--input', big, '--output', join(dir, 'big-out'), '--json', '--max-attempts', '1', '--split-size', '1KiB']);
    assert.match(jsonSummary(r)['error']['message'], /map threw in .*big\.txt at byte 2000: poisoned record/);
  });
});

describe('POST /jobs refuses parameters that cannot succeed', () => {
  let m: TestManager;
  let token: string;
  before(async () => {
    m = await startTestManager('pglite');
    await m.login('admin', ADMIN_PASSWORD);
    token = await m.newUser('paula');
    assert.equal((await m.call('POST', '/datasets?name=in', { token, body: 'alpha\nbeta\n' })).status, 201);
  });
  after(async () => {
    await m?.close();
  });

  it('grep without pattern, or with an unknown parameter: 400 TORPEDO_ERR_BAD_FLAG, and no job', async () => {
    const missing = await m.call('POST', '/jobs', { token, json: { example: 'grep', inputs: ['in'] } });
    assert.equal(missing.status, 400, missing.body);
    assert.equal(missing.json.error.code, 'TORPEDO_ERR_BAD_FLAG');
    assert.match(missing.json.error.message, /grep needs the parameter "pattern" \(.*\): give "params": \{"pattern": "…"\}/);
    const unknown = await m.call('POST', '/jobs', { token, json: { example: 'grep', inputs: ['in'], params: { pattern: 'a', case: 'i' } } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /grep has no parameter "case": it takes "pattern" .*; "flags"/);
    assert.deepEqual((await m.call('GET', '/jobs', { token })).json.jobs, []);
  });

  it("submitted code's declared params are checked once it is loaded", async () => {
    const code = readFileSync(join(JOBS, 'declares-params.mjs'), 'utf8');
    const refused = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['in'], params: { mode: 'fast', nope: '1' } } });
    assert.equal(refused.status, 400, refused.body);
    assert.equal(refused.json.error.code, 'TORPEDO_ERR_BAD_FLAG');
    assert.match(refused.json.error.message, /job\.mjs has no parameter "nope": it takes "mode"/);
    const ok = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['in'], params: { mode: 'fast' } } });
    assert.equal(ok.status, 201, ok.body);
    assert.equal((await m.waitForJob(token, ok.json.id)).status, 'succeeded');
  });
});
