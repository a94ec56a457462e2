// Writes N one-segment runs into DIR and merges them through openPartition with a fan-in of
// FACTOR; prints {"pairs": …, "ordered": …} or {"error": code}. Run by
// src/shuffle/partition-input.test.ts under a low `ulimit -n`, so that a merge that opened every
// file at once would fail with EMFILE.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPartition } from '../../src/shuffle/partition-input.ts';
import { RunWriter } from '../../src/shuffle/run-file.ts';

const [dir = '', count = '0', factor = '100'] = process.argv.slice(2);
const runs: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const path = join(dir, `map-${i}.run`);
  const w = new RunWriter(path, 1024);
  const keys = [`key-${String(i % 97).padStart(3, '0')}`, `key-${String(i % 89).padStart(3, '0')}x`].sort();
  for (const key of keys) w.write(key, String(i));
  w.endSegment();
  w.close();
  runs.push(path);
}
const scratch = join(dir, 'scratch');
mkdirSync(scratch);
try {
  const input = openPartition(runs, 0, { memoryBytes: 64 << 20, mergeFactor: Number(factor), scratchDir: scratch });
  let pairs = 0;
  let ordered = true;
  let last = '';
  let lastValue = -1;
  while (input.merger.next()) {
    const c = input.merger.current;
    const key = c.key;
    const value = Number(c.value());
    // Keys ascend; among equal keys, values (the run's index) come in run order.
    if (key < last || (key === last && value <= lastValue)) ordered = false;
    last = key;
    lastValue = value;
    pairs++;
  }
  input.check();
  input.close();
  console.log(JSON.stringify({ pairs, ordered }));
} catch (e) {
  console.log(JSON.stringify({ error: (e as NodeJS.ErrnoException).code ?? String(e) }));
}
