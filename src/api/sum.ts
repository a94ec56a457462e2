import type { Emit } from './job.ts';

/** Marks a combiner or reducer that the engine may replace by in-place numeric addition. */
export const SUM_TAG: unique symbol = Symbol.for('torpedo.sum');

/**
 * A combiner and reducer that adds numeric values: `combine: sum, reduce: sum`.
 *
 * It behaves exactly like the function below; the engine recognises it and, on the map side,
 * adds values into a hash table as they are emitted instead of buffering them, which is what
 * makes word-count-like jobs fast.
 */
export const sum = Object.assign(
  function sum(key: string, values: Iterable<number>, emit: Emit<number>): void {
    let total = 0;
    for (const v of values) total += v;
    emit(key, total);
  },
  { [SUM_TAG]: true as const },
);

export function isSum(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [SUM_TAG]?: boolean })[SUM_TAG] === true;
}
