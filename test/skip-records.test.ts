import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';

/** Poison records (the paper's section 4.6): with --skip-bad-records the job skips them and succeeds. */
let dir: string;
const THROWS = join(ROOT, 'test', 'jobs', 'throws.mjs');

before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

describe('--skip-bad-records', () => {
  it('skips each record that failed twice, counts it, and the output is the oracle of the clean input', async () => {
    const input = join(dir, 'in.txt');
    const clean = join(dir, 'clean.txt');
    const lines = Array.from({ length: 40 }, (_, i) => `record ${i}`);
    writeFileSync(clean, `${lines.join('\n')}\n`);
    lines.splice(7, 0, 'POISON one');
    lines.splice(30, 0, 'POISON two');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    const r = await runCli(['run', THROWS, '--input', input, '--output', out, '--json', '--skip-bad-records', '--split-size', '200B', '--reducers', '2']);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.equal(s['status'], 'succeeded');
    assert.equal(s['counters']['skipped records'], 2);
    assert.equal(s['phases']['map']['failedAttempts'], 4, 'each poison record fails twice');
    const job = (await import(THROWS)).default as Job;
    assert.deepEqual(readParts(out), await runOracle(job, [clean], 2));
  });

  it('two bad records in one split of a mapBytes job: both located and skipped, nothing else', async () => {
    const input = join(dir, 'in2.txt');
    writeFileSync(input, 'first fine\na POISON b\nfine words\nPOISON again\nmore fine words\n');
    const out = join(dir, 'out2');
    const r = await runCli(['run', join(ROOT, 'test', 'jobs', 'throws-bytes.mjs'), '--input', input, '--output', out, '--json', '--skip-bad-records', '--max-attempts', '1']);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.equal(s['counters']['skipped records'], 2);
    assert.deepEqual(readParts(out), ['fine words\nfirst fine\nmore fine words\n']);
  });

  it('a mapBytes error names the record, found by replaying the chunk through map', async () => {
    const input = join(dir, 'in4.txt');
    writeFileSync(input, 'ok\nstill ok\nPOISON\n');
    const r = await runCli(['run', join(ROOT, 'test', 'jobs', 'throws-bytes.mjs'), '--input', input, '--output', join(dir, 'out4'), '--json', '--max-attempts', '1']);
    assert.equal(r.code, 1);
    const e = jsonSummary(r)['error'];
    assert.equal(e['offset'], 12);
    assert.match(e['message'], /map threw in .*in4\.txt at byte 12 \(line 3\): poisoned record: POISON/);
  });

  it('without the flag the same job fails', async () => {
    const input = join(dir, 'in3.txt');
    writeFileSync(input, 'ok\nPOISON\n');
    const r = await runCli(['run', THROWS, '--input', input, '--output', join(dir, 'out3'), '--json']);
    assert.equal(r.code, 1);
    assert.equal(jsonSummary(r)['phases']['map']['failedAttempts'], 3);
  });
});
