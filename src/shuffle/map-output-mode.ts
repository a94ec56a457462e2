import type { RunFooter } from './run-file.ts';
import type { OnHighRun } from './token-table.ts';

/** How the map side pre-aggregates: not at all, with the user's combiner, or by numeric addition. */
export type CombineMode =
  | { readonly kind: 'none' }
  | { readonly kind: 'sum' }
  | { readonly kind: 'function'; readonly combine: (key: string, values: unknown[]) => unknown[] };

export interface MapOutputOptions {
  readonly reducers: number;
  /** Returns the partition of a key; must throw on an out-of-range result. */
  readonly partition: (key: string) => number;
  /** The same for a key given as UTF-8 bytes, if it can be computed without decoding. */
  readonly partitionBytes?: (buf: Uint8Array, start: number, end: number) => number;
  readonly combine: CombineMode;
  /** Bytes of buffered pairs after which a sorted run is spilled to disk. */
  readonly budgetBytes: number;
  /** A directory private to this attempt, for spill files. */
  readonly spillDir: string;
}

export interface MapOutputStats {
  outputPairs: number;
  spills: number;
  spilledPairs: number;
}

/** Emit of a key given as UTF-8 bytes `buf[start, end)`, with its hashBytes if the caller has it. */
export type EmitBytes = (buf: Uint8Array, start: number, end: number, value: unknown, hash?: number) => void;

/**
 * The map side of the shuffle for one combine mode: buffers emitted pairs within a memory budget,
 * and when it is full partitions, sorts, combines and spills them; `finish` merges the spills into
 * one run file. One implementation per CombineMode kind — PlainMapOutput ('none'),
 * SummingMapOutput ('sum'), CombiningMapOutput ('function') — picked once by MapOutput. One
 * instance per map attempt, used by that attempt only; nothing may be emitted after `finish`.
 */
export interface MapOutputMode {
  /**
   * The map function's `emit`. Who calls: user code, once per pair: with emitBytes the hottest
   * call there is. Not idempotent (every call is one more pair). A bound function: callers keep it
   * apart from the object. May spill (write a file) when the budget is reached.
   */
  readonly emit: (key: string, value: unknown) => void;
  /** `mapBytes`' emit (see the job API), as `emit` otherwise: once per pair, bound, may spill. */
  readonly emitBytes: EmitBytes;
  /**
   * `ctx.countTokens`: emits (token, 1) for every token of buf[start, end) (see the job API); a
   * token with a byte ≥ 0x80 goes to `onHighRun` instead, which emits what it stands for. Who
   * calls: `mapBytes`, about once per input chunk. Must not be called from its own `onHighRun`.
   */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun): void;
  /**
   * Writes the task's output run to `path` (which must not exist) and removes the spills. Who
   * calls: the map runner, once, after the last emit. Not idempotent.
   */
  finish(path: string): RunFooter;
  /** What was emitted and spilled so far. Read by the map runner for its counters. */
  readonly stats: MapOutputStats;
}
