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

/** Marks a reducer that the engine may replace by copying pairs straight to the output. */
export const IDENTITY_TAG: unique symbol = Symbol.for('torpedo.identity');

/**
 * The identity reducer: writes every pair as it arrives, `reduce: identity` (Hadoop's
 * IdentityReducer). The engine recognises it and copies the merged pairs' bytes to the part file
 * without calling JavaScript per pair — what a sort or a grep needs.
 */
export const identity = Object.assign(
  function identity<V>(key: string, values: Iterable<V>, emit: Emit<V>): void {
    for (const v of values) emit(key, v);
  },
  { [IDENTITY_TAG]: true as const },
);

export function isIdentity(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [IDENTITY_TAG]?: boolean })[IDENTITY_TAG] === true;
}
