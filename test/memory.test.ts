import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { prng } from './prng.ts';

/**
 * Jobs larger than memory: intermediate data many times --memory, with workers' heaps capped by
 * --max-old-space-size, must spill, merge and finish with the right output.
 */
let dir: string;
let input: string;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta', 'eta', 'θήτα', 'iota', 'kappa', 'lambda', 'mu'];

before(() => {
  dir = tempDir();
  input = join(dir, 'big.txt');
  const rand = prng(99);
  const lines: string[] = [];
  let size = 0;
  while (size < 24e6) {
    const n = 3 + Math.floor(rand() * 12);
    let line = '';
    for (let i = 0; i < n; i++) line += `${WORDS[Math.floor(rand() * WORDS.length)]}${Math.floor(rand() * 100000)} `;
    lines.push(line);
    size += line.length + 1;
  }
  writeFileSync(input, `${lines.join('\n')}\n`);
});
after(() => removeDir(dir));

describe('larger than memory', () => {
  it('sort with 24 MB of intermediate data, --memory 2MB and a 64 MB worker heap', async () => {
    const out = join(dir, 'out');
    const r = await runCli(
      ['run', 'sort', '--input', input, '--output', out, '--reducers', '3', '--split-size', '8MB', '--workers', '2', '--memory', '2MB', '--json'],
      { env: { NODE_OPTIONS: '--max-old-space-size=64' }, timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    // ~24 MB through 2 MB buffers: at least 24/2 - 3 (one unspilled remainder per map task).
    assert.ok(s['counters']['spilled runs'] >= 9, `spilled ${s['counters']['spilled runs']} runs`);
    const expected = execFileSync('sort', [input], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 }).toString();
    assert.ok(readParts(out).join('') === expected, 'output equals LC_ALL=C sort');
    const peak = Math.max(...(s['workers'] as { maxRssBytes: number }[]).map((w) => w.maxRssBytes));
    assert.ok(peak < 64e6 + 150e6, `peak worker RSS ${(peak / 1e6).toFixed(0)} MB`);
  });
});
