import type { Job } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';
import { notAStringKey } from '../shuffle/byte-keys.ts';
import type { Merger } from '../shuffle/merge.ts';
import { encodeValue } from '../shuffle/map-output.ts';
import { OutputWriter, type PartEncoding } from '../shuffle/output-writer.ts';
import { noNamedOutputs, withNamedOutputs, type NamedOutputs } from '../shuffle/named-outputs.ts';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { openPartition } from '../shuffle/partition-input.ts';
import { isIdentity, isSum } from '../api/builtin-functions.ts';
import { userError, type AttemptContext } from './task-context.ts';

export interface ReduceRun {
  readonly job: Job;
  readonly jobName: string;
  readonly partition: number;
  /** Committed map outputs, in map task order. */
  readonly mapOutputs: readonly string[];
  readonly ctx: AttemptContext;
  readonly memoryBytes: number;
  /** Most map outputs merged at once; more are merged in passes in `scratchDir` first. */
  readonly mergeFactor: number;
  /** The attempt's scratch directory. */
  readonly scratchDir: string;
  /** Where to write the part file; committed by the caller. */
  readonly outputPath: string;
  /** The part's format and codec (the job's outputFormat, outputCompression). */
  readonly encoding?: PartEncoding;
  /** The task's named outputs (`emit.to`). */
  readonly named?: NamedOutputs;
  readonly onProgress: (bytes: number) => void;
}

/** What a reduce attempt reports: its counters, and the size and CRC-32 of the part it wrote. */
export interface ReduceResult {
  readonly counters: Record<string, number>;
  readonly part: PartChecksum;
}

/**
 * Runs one reduce attempt: k-way merges segment r of every map output and calls `reduce` once per
 * key with a lazy iterator over its values, writing `key<TAB>value` lines (or the job's outputFormat, compressed with its outputCompression).
 */
export async function runReduce(run: ReduceRun): Promise<ReduceResult> {
  const { job, ctx, jobName } = run;
  const reduce = job.reduce;
  // prepareJob refuses a job without reduce unless it is map-only, which has no reduce tasks.
  if (reduce === undefined) throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${jobName}: a reduce task of a job without \`reduce\``);
  const input = openPartition(run.mapOutputs, run.partition, { memoryBytes: run.memoryBytes, mergeFactor: run.mergeFactor, scratchDir: run.scratchDir });
  try {
    const { merger, bytes: inputBytes } = input;
    const out = new OutputWriter(run.outputPath, run.encoding);
    let groups = 0;
    let inputPairs = 0;
    const named = run.named;
    const emit = withNamedOutputs(
      (key: string, value: unknown): void => {
        if (typeof key !== 'string') {
          throw notAStringKey(key);
        }
        out.write(key, value);
      },
      named !== undefined ? (name, key, value) => named.write(name, key, value) : noNamedOutputs('this reduce'),
    );
    let lastYield = performance.now();
    const identity = isIdentity(job.reduce);
    const summing = isSum(job.reduce);
    const values = new GroupValues(merger);
    while (merger.next()) {
      groups++;
      if (identity) {
        // Hadoop's IdentityReducer: copy the merged pairs' bytes, no JavaScript per pair.
        merger.startGroup();
        do {
          const c = merger.current;
          out.writeRaw(c.buf, c.keyStart, c.keyEnd, c.buf, c.valueStart, c.valueEnd);
          inputPairs++;
        } while (merger.nextInGroup());
      } else if (summing) {
        // reduce: sum — add the values as they stream by and write the key's bytes as they are.
        merger.startGroup();
        let total = 0;
        let n = 0;
        do {
          const v = merger.current;
          total += parseNumber(v.buf, v.valueStart, v.valueEnd);
          n++;
        } while (merger.nextInGroup());
        inputPairs += n;
        out.writeRawKey(merger.groupKey, 0, merger.groupKeyLength, encodeValue(total) as string);
      } else {
        merger.startGroup();
        const key = merger.current.key;
        values.reset();
        try {
          const r = reduce(key, values, emit, ctx);
          if (r !== undefined) await r;
        } catch (e) {
          throw userError(e, jobName, `reduce (key ${JSON.stringify(key.slice(0, 80))})`);
        }
        inputPairs += values.drain();
      }
      // Reading is synchronous: give heartbeats a turn of the event loop every ~50 ms.
      if ((groups & 1023) === 0 && performance.now() - lastYield > 50) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    input.check();
    out.close();
    run.onProgress(inputBytes);
    return {
      part: out.checksum(),
      counters: {
        'reduce input groups': groups,
        'reduce input pairs': inputPairs,
        'reduce output lines': out.lines,
        'reduce shuffle bytes': inputBytes,
      },
    };
  } catch (e) {
    // Damaged input explains whatever else went wrong (a user's reduce may rethrow it as its own).
    input.check();
    throw e;
  } finally {
    input.close();
  }
}

/**
 * The `values` of one reduce call: a lazy, single-pass iterator over the merger's current group
 * (a plain iterator object: faster than a generator, and reused across groups).
 */
class GroupValues implements Iterable<unknown>, Iterator<unknown> {
  readonly #m: Merger;
  #first = true;
  #done = false;
  #read = 0;

  constructor(m: Merger) {
    this.#m = m;
  }

  reset(): void {
    this.#first = true;
    this.#done = false;
    this.#read = 0;
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this;
  }

  next(): IteratorResult<unknown> {
    if (this.#first) {
      this.#first = false;
      this.#read++;
      return { done: false, value: this.#m.current.value() };
    }
    if (!this.#done && this.#m.nextInGroup()) {
      this.#read++;
      return { done: false, value: this.#m.current.value() };
    }
    this.#done = true;
    return { done: true, value: undefined };
  }

  /** Skips the values the reduce did not read; returns how many the group had. */
  drain(): number {
    if (this.#first) {
      this.#first = false;
      this.#read++;
    }
    if (!this.#done) while (this.#m.nextInGroup()) this.#read++;
    this.#done = true;
    return this.#read;
  }
}

/** A JSON number from bytes: plain integers are read directly, anything else through JSON.parse. */
function parseNumber(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  if (i === end || end - i > 15) return slowNumber(buf, start, end);
  for (; i < end; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return slowNumber(buf, start, end);
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

function slowNumber(buf: Buffer, start: number, end: number): number {
  const v: unknown = start === end ? null : JSON.parse(buf.toString('utf8', start, end));
  if (typeof v !== 'number') {
    throw new TorpedoError('TORPEDO_ERR_BAD_EMIT', `reduce: sum needs numeric values, got ${JSON.stringify(v)}`);
  }
  return v;
}
