import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { listInputFiles } from '../src/input/input-files.ts';
import { jsonSummary, makeEdgeInputs, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';

/**
 * ctx.countTokens end to end: the real CLI and workers, a job whose nonAscii function also counts
 * in a user counter, on text where the same non-ASCII words come back many times (so that the
 * engine's run cache replays them) and on the edge inputs.
 */
const JOB = join(ROOT, 'test', 'jobs', 'count-tokens.mjs');
let dir: string;
let input: string;

before(() => {
  dir = tempDir();
  input = makeEdgeInputs(dir);
  const words = ['café', 'Café', 'ÉTÉ', 'naïve', 'ΟΔΟΣ', 'Σίσυφος', 'İstanbul', 'one—two', '日本語', 'the', 'The', 'word', "don't", 'x_1'];
  const rand = prng(7);
  const lines = Array.from({ length: 3000 }, () => Array.from({ length: 12 }, () => words[Math.floor(rand() * words.length)]).join(rand() < 0.5 ? ' ' : ', '));
  writeFileSync(join(input, 'repeated.txt'), `${lines.join('\n')}\n`);
});
after(() => removeDir(dir));

describe('ctx.countTokens', () => {
  it('a bad call fails the job with a clear message: a range outside buf, a table that lets tokens cross lines', async () => {
    for (const [call, message] of [
      ['ctx.countTokens(buf, 0, buf.length + 1, tokenBytes("a-z"))', /ctx\.countTokens\(buf, start, end, …\): \[\d+, \d+\) is not a range of buf/],
      ['const t = tokenBytes("a-z"); t[10] = 1; ctx.countTokens(buf, start, end, t)', /256 entries in which \\n and \\r are 0/],
    ] as const) {
      const job = join(dir, `bad-${message.source.length}.mjs`);
      writeFileSync(job, `import { sum, tokenBytes } from 'torpedo';\nexport default { map() {}, mapBytes(buf, start, end, emit, ctx) { ${call}; }, combine: sum, reduce: sum };\n`);
      const r = await runCli(['run', job, '--input', join(input, 'crlf.txt'), '--output', join(dir, 'bad-out'), '--force', '--json', '--max-attempts', '1']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(jsonSummary(r)['error']['message'], message);
    }
  });

  for (const flags of [['--split-size', '16KB', '--reducers', '3', '--workers', '2'], ['--reducers', '2', '--memory', '64KB']]) {
    it(`matches the oracle, counters included (${flags.join(' ')})`, async () => {
      const job = (await import(JOB)).default as Job;
      const R = Number(flags[flags.indexOf('--reducers') + 1]);
      const expected = await runOracle(job, [input], R);
      const out = join(dir, `out-${R}`);
      const r = await runCli(['run', JOB, '--input', input, '--output', out, '--force', '--json', ...flags]);
      assert.equal(r.code, 0, r.stderr);
      const s = jsonSummary(r);
      assert.deepEqual(readParts(out), expected);
      // Every run with non-ASCII characters was counted, not only the first of each spelling.
      let runs = 0;
      for (const f of listInputFiles([input])) {
        runs += (readFileSync(f.path, 'utf8').match(/[A-Za-z0-9_'\u0080-\u{10FFFF}]+/gu) ?? []).filter((w) => /[\u0080-\u{10FFFF}]/u.test(w)).length;
      }
      assert.ok(runs > 10_000);
      assert.equal(s['userCounters']['non-ascii runs'], runs);
      const pairs = expected.join('').split('\n').filter(Boolean).reduce((a, l) => a + Number(l.split('\t')[1]), 0);
      assert.equal(s['counters']['map output pairs'], pairs, 'every emitted pair is counted once');
      if (flags.includes('--memory')) assert.ok(s['counters']['spilled runs'] > 0, 'the small budget made it spill');
    });
  }
});
