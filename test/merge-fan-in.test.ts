import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, jsonSummary, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { prng } from './prng.ts';

/**
 * A reduce reads every map output, but never holds more than --merge-factor of them open: 600
 * map tasks with R = 1 under `ulimit -n 256` (the whole job, master and workers, under it).
 * Before merges had a bounded fan-in, the reduce opened all 600 at once and failed with EMFILE.
 */
let dir: string;
let input: string;
before(() => {
  dir = tempDir('torpedo-fan-in-');
  input = join(dir, 'in.txt');
  const rand = prng(3);
  const lines = Array.from({ length: 40_000 }, () => `w${Math.floor(rand() * 3000)} v${Math.floor(rand() * 50)}`);
  writeFileSync(input, `${lines.join('\n')}\n`);
});
after(() => removeDir(dir));

function runLimited(args: readonly string[], limit: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const quoted = [BIN, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('bash', ['-c', `ulimit -n ${limit} && exec '${process.execPath}' ${quoted}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('600 maps, R = 1, ulimit -n 256: the reduce merges in passes and the output is the same', { timeout: 180_000 }, async () => {
  const many = join(dir, 'many');
  const r = await runLimited(['run', 'wordcount', '--input', input, '--output', many, '--maps', '600', '--reducers', '1', '--json', '--no-progress'], 256);
  assert.equal(r.code, 0, r.stderr);
  const s = jsonSummary(r);
  assert.equal(s['phases']['map']['tasks'], 600);
  assert.equal(s['phases']['reduce']['failedAttempts'], 0);
  const few = join(dir, 'few');
  const baseline = await runCli(['run', 'wordcount', '--input', input, '--output', few, '--maps', '2', '--reducers', '1']);
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.deepEqual(readParts(many), readParts(few));
});
