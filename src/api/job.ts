/**
 * The job API: what a user's job module exports as its default export.
 *
 * Who calls what, and how often (the engine may run any task more than once, on another worker,
 * after a failure or as a backup, so every function here must be a pure function of its inputs
 * and `ctx`; side effects other than `emit` and `ctx.count` are not undone when an attempt loses):
 *
 * | function    | called by                  | how often                                                  |
 * |-------------|----------------------------|------------------------------------------------------------|
 * | `setup`     | one worker, before any map | once per job (again if that attempt fails)                 |
 * | `map`       | map tasks                  | once per input record per attempt                          |
 * | `mapBytes`  | map tasks, instead of map  | once per chunk of whole lines per attempt                  |
 * | `combine`   | map tasks                  | zero or more times per key, on any subset of its values    |
 * | `partition` | map tasks                  | at least once per distinct key per attempt                 |
 * | `reduce`    | reduce tasks               | once per distinct key of its partition per attempt         |
 *
 * @example
 * ```ts
 * import { defineJob, sum } from 'torpedo';
 * export default defineJob({
 *   map(line, emit) { for (const w of line.split(/\s+/)) if (w) emit(w, 1); },
 *   combine: sum,
 *   reduce: sum,
 * });
 * ```
 */
export interface Job<V = unknown, O = unknown, R = string> {
  /**
   * Called for each input record: for text, one line without `\n` and without a trailing `\r`;
   * for JSON lines, the parsed value; for CSV, the row (an object of column → string with a
   * header, else an array of strings). `R` is the record's type (docs/data-formats.md).
   */
  readonly map: MapFn<V, R>;
  /**
   * Called once per distinct key with a lazy iterable of all its values (may exceed memory).
   * Required, except in a map-only job (`--reducers 0`), whose map output is its output.
   */
  readonly reduce?: ReduceFn<V, O>;
  /**
   * Optional map-side pre-aggregation with the shape of `reduce`. It may run zero or more times
   * on any subset of a key's values, and its output may be combined again, so it must be
   * associative and commutative, and emit only the key it was given.
   */
  readonly combine?: ReduceFn<V, V>;
  /** Optional; must return an integer in [0, R). Default: a stable hash of the key's UTF-8 bytes. */
  readonly partition?: PartitionFn;
  /**
   * Optional; runs once before the map phase (on a worker), e.g. to sample the input for a range
   * partitioner. Its JSON-serialisable result is `ctx.setup` in every task.
   */
  readonly setup?: (ctx: SetupContext) => unknown;
  /**
   * Optional fast path that replaces `map` on the engine: called with a buffer holding whole
   * input lines (each ending in `\n`, except possibly the last line of a file; `\r` not removed).
   * See docs/job-api.md. `map` must still be given and must produce the same pairs: the
   * sequential oracle and tools that need records use it.
   */
  readonly mapBytes?: MapBytesFn<V>;
  /**
   * Optional: the parameters (`--param name=value`, POST /jobs' `params`) the job reads from
   * `ctx.params`, as plain data. When given, torpedo checks the parameters of every run against
   * it before any task runs (`torpedo run` exits 2, POST /jobs answers 400): a required one that
   * is missing or empty, or one not declared here, is refused with the list of those it takes.
   * Without it, any parameters are passed through unchecked. See docs/job-api.md.
   */
  readonly params?: ParamDeclarations;
}

/** A job's parameters by name: `{ pattern: { required: true, help: 'a regular expression' } }`. */
export type ParamDeclarations = Readonly<Record<string, ParamSpec>>;

/** One declared parameter. Plain data: the job module runs in a sandbox, torpedo reads this. */
export interface ParamSpec {
  /** The job cannot run without it: a run that lacks it, or gives it empty, is refused. */
  readonly required?: boolean;
  /** What the value means, in a few words: shown when a run is refused. */
  readonly help?: string;
}

/** How map, combine and reduce write pairs: `emit(key, value)`. */
export interface Emit<V> {
  (key: string, value: V): void;
  /**
   * Writes a pair to the named output `name` (Hadoop's MultipleOutputs), not to the job's parts:
   * from reduce, `NAME-r-NNNNN` beside `part-r-NNNNN`; from the map of a map-only job,
   * `NAME-m-NNNNN`. A name is letters and digits, starting with a letter, and not `part`. The
   * files have the output's format and codec and the same determinism as the parts; a task that
   * writes nothing to a name has no file of it. Not available in `combine`, nor in the map of a
   * job with reducers. See docs/job-api.md, "Named outputs".
   */
  to(name: string, key: string, value: unknown): void;
}

export type MapFn<V, R = string> = (value: R, emit: Emit<V>, ctx: MapContext) => void | Promise<void>;

export type ReduceFn<V, O> = (
  key: string,
  values: Iterable<V>,
  emit: Emit<O>,
  ctx: TaskContext,
) => void | Promise<void>;

export type PartitionFn = (key: string, reducers: number, ctx: TaskContext) => number;

/**
 * Fast-path emitter: the key is `buf[start, end)` as UTF-8 bytes. The bytes are copied before the
 * call returns (or aggregated in place, with the `sum` combiner), so the buffer may be reused.
 * `hash`, optional, is the 32-bit FNV-1a of the key bytes (`hashBytes`), for a scanner that
 * computes it anyway: it saves the engine a pass over the key. A wrong hash costs speed, not
 * correctness.
 */
export type EmitBytes<V> = (buf: Uint8Array, start: number, end: number, value: V, hash?: number) => void;

export type MapBytesFn<V> = (
  buf: Uint8Array,
  start: number,
  end: number,
  emit: EmitBytes<V>,
  ctx: MapBytesContext,
) => void;

export interface TaskContext {
  /** e.g. `map-00003` or `reduce-00001`; the same for every attempt of the task. */
  readonly taskId: string;
  /** 0 for the first attempt of a task, 1 for the first retry or backup, … */
  readonly attempt: number;
  /** `--param key=value` pairs. */
  readonly params: Readonly<Record<string, string>>;
  /** Number of reduce tasks (R). */
  readonly reducers: number;
  /** The result of the job's `setup`, or `undefined` without one. */
  readonly setup: unknown;
  /**
   * The job's side files (`--file PATH`, `files` in POST /jobs) by name (the file's base name) →
   * a path to read inside the sandbox (`readFileSync(ctx.files['stopwords.txt'], 'utf8')`).
   * Empty without any. See docs/job-api.md.
   */
  readonly files: Readonly<Record<string, string>>;
  /** Adds `n` to a user counter; counters are summed over successful attempts only. */
  count(name: string, n?: number): void;
}

export interface MapContext extends TaskContext {
  /** The input file of the current record, as the user named it (directories expanded). */
  readonly file: string;
  /** Byte offset in `file` of the current record's first byte (of the chunk, for mapBytes). */
  readonly offset: number;
}

export interface MapBytesContext extends MapContext {
  /**
   * Emits (token, 1) for every token of `buf[start, end)`, where a token is a maximal run of bytes
   * b with `tokenBytes[b] !== 0`, made of the bytes `tokenBytes[b]` (so the table can fold case;
   * build one with `tokenBytes()`). The engine splits and counts the tokens in WebAssembly: with
   * `combine: sum` there is no JavaScript call per token, which is the fastest way to count.
   *
   * With `nonAscii`, a token that holds a byte ≥ 0x80 is not counted but handed to it, as its
   * original bytes `buf[runStart, runEnd)`, to emit what it should (e.g. the words Unicode rules
   * find in it). The pairs of one call come in no particular order. `\n` and `\r` must be 0 in
   * the table, so that no token crosses a line end.
   */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, nonAscii?: NonAsciiFn): void;
}

/** `ctx.countTokens`'s handler of a token that holds non-ASCII bytes: `buf[runStart, runEnd)`. */
export type NonAsciiFn = (buf: Uint8Array, runStart: number, runEnd: number) => void;

export interface SetupContext {
  readonly params: Readonly<Record<string, string>>;
  readonly reducers: number;
  /** The input files, as the user named them. */
  readonly files: readonly string[];
  /** About `n` records sampled from evenly spaced places in the input (TeraSort's sampler). */
  sample(n: number): Promise<string[]>;
}
