import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prng } from '../../test/prng.ts';
import { openPartition } from './partition-input.ts';
import { RunWriter } from './run-file.ts';

const root = mkdtempSync(join(tmpdir(), 'torpedo-partition-'));
after(() => rmSync(root, { recursive: true, force: true }));
const MERGE_MANY = join(import.meta.dirname, '..', '..', 'test', 'support', 'merge-many.ts');

/** `count` runs of two segments each, sorted random keys with many ties across runs. */
function writeRuns(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  const rand = prng(5);
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir, `run-${i}`);
    const w = new RunWriter(path);
    for (let seg = 0; seg < 2; seg++) {
      const keys = Array.from({ length: 50 }, () => `k${Math.floor(rand() * 40)}`).sort();
      for (const k of keys) w.write(k, JSON.stringify(`${i}/${seg}`));
      w.endSegment();
    }
    w.close();
    return path;
  });
}

function merged(runs: string[], partition: number, mergeFactor: number, scratchDir: string): string[] {
  const input = openPartition(runs, partition, { memoryBytes: 1 << 20, mergeFactor, scratchDir });
  try {
    const out: string[] = [];
    while (input.merger.next()) out.push(`${input.merger.current.key} ${String(input.merger.current.value())}`);
    input.check();
    return out;
  } finally {
    input.close();
  }
}

test('merging in passes gives the same pairs in the same order as one merge, and cleans up', () => {
  const runs = writeRuns(join(root, 'runs'), 40);
  const scratch = join(root, 'scratch');
  mkdirSync(scratch);
  for (const partition of [0, 1]) {
    const once = merged(runs, partition, 100, scratch);
    assert.equal(once.length, 40 * 50);
    for (const factor of [2, 3, 7]) assert.deepEqual(merged(runs, partition, factor, scratch), once, `fan-in ${factor}`);
  }
  assert.deepEqual(readdirSync(scratch), [], 'the passes left no files');
});

test('10,000 map outputs merge within ulimit -n 1024; all at once they would not', () => {
  const run = (factor: number): Record<string, unknown> => {
    const dir = mkdtempSync(join(root, `many-${factor}-`));
    const r = spawnSync('bash', ['-c', `ulimit -n 1024 && exec "${process.execPath}" --import tsx "${MERGE_MANY}" "${dir}" 10000 ${factor}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    rmSync(dir, { recursive: true, force: true });
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  };
  assert.deepEqual(run(100), { pairs: 20_000, ordered: true });
  assert.deepEqual(run(10_000), { error: 'EMFILE' }, 'the limit is real: one merge of every file fails');
});
