import { compareAsciiOrder, compareKeys, hasHighUnits } from './key-order.ts';
import { RunWriter, type RunFooter } from './run-file.ts';

/** One combined pair ready for sorting: key, partition, value as JSON text (null for null). */
export interface Pair {
  readonly key: string;
  readonly part: number;
  readonly value: string | null;
}

/**
 * Writes `pairs` (in emission order) as a sorted run at `path`: a segment per partition, sorted by
 * key bytes, equal keys in emission order. Who calls: the combining map outputs, once per spill:
 * what they hold is a few pairs per key, not worth PairArena's byte arena.
 */
export function writePairList(path: string, pairs: readonly Pair[], reducers: number): RunFooter {
  const byPart: Pair[][] = Array.from({ length: reducers }, () => []);
  let high = false;
  for (const p of pairs) {
    (byPart[p.part] as Pair[]).push(p);
    if (!high && hasHighUnits(p.key)) high = true;
  }
  const cmp = high ? compareKeys : compareAsciiOrder;
  const writer = new RunWriter(path);
  for (const list of byPart) {
    list.sort((a, b) => cmp(a.key, b.key)); // stable: equal keys keep emission order
    for (const p of list) writer.write(p.key, p.value);
    writer.endSegment();
  }
  return writer.close();
}
