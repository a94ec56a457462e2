import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { ByteTable } from './byte-table.ts';
import { compareAsciiOrder, compareKeys, hasHighUnits } from './key-order.ts';
import { Merger } from './merge.ts';
import { PairArena } from './pair-arena.ts';
import { STRING_ENTRY_BYTES, StringTable } from './string-table.ts';
import { encodeValue, readFooter, RunWriter, SegmentReader, type RunFooter } from './run-file.ts';
import { TokenTable, type OnHighRun } from './token-table.ts';

/** The run-file value encoding lives with the run-file code; callers that import it from here still can. */
export { encodeValue } from './run-file.ts';

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

/** One buffered pair ready for sorting: key, partition, value as JSON text (null for null). */
interface Pair {
  readonly key: string;
  readonly part: number;
  readonly value: string | null;
}

/** Below this many buffered values, a key's values wait for more before the combiner runs. */
const COMBINE_BATCH = 64;
/**
 * Numeric values of one key wait in a block of this many slots of a Float64Array, then go through
 * the combiner together (with the next value). Storing a number there costs a fraction of pushing
 * it onto a JavaScript array per key (measured: 0.6 s vs 1.3 s for 5.3 M words, lookups included).
 */
const NUMERIC_BLOCK = 16;
/** #valueCount of a key whose values are in a JavaScript array. */
const IN_GROUP = 255;
/** Memory per key of 'function' mode beyond the string table: its block, count and array slots. */
const GROUP_ENTRY_BYTES = NUMERIC_BLOCK * 8 + 1 + 16;

/**
 * The map side of the shuffle: buffers emitted pairs within a memory budget, and when it is full
 * partitions, sorts, combines and spills them; `finish` merges the spills into one run file.
 */
export class MapOutput {
  readonly #stats: MapOutputStats = { outputPairs: 0, spills: 0, spilledPairs: 0 };
  readonly #o: MapOutputOptions;
  #bytes = 0;
  readonly #budget: number;
  /** Uncombined pairs ('none'), and byte-keyed sums on their way to disk. */
  #pairs = new PairArena();
  /** String keys of 'sum' and 'function' mode, each with a dense index into #sums or #groups. */
  #strings = new StringTable();
  #sums: Float64Array = new Float64Array(1024);
  /**
   * 'function' mode, per key: a key whose values are all numbers keeps them in its block of
   * #numbers (#valueCount of them); any other key (#valueCount IN_GROUP) in its #groups array.
   */
  #numbers = new Float64Array(NUMERIC_BLOCK * 1024);
  #valueCount = new Uint8Array(1024);
  #groups: (unknown[] | undefined)[] = [];
  /** Per array group: the size at which it is combined next. */
  #combineAt: number[] = [];
  /** Byte-keyed sums: present exactly in 'sum' mode. */
  #table: ByteTable | undefined;
  /**
   * Tokens counted by countTokens (in 'sum' mode, their totals; else only during the call). Made
   * at the first call; in 'sum' mode emitBytes counts here too from then on, so that a key's
   * total is in one table.
   */
  #tokens: TokenTable | undefined;
  readonly #bytePairs = { n: 0 };
  readonly #spills: string[] = [];

  constructor(options: MapOutputOptions) {
    this.#o = options;
    this.#budget = options.budgetBytes;
    if (options.combine.kind === 'sum') {
      this.#table = new ByteTable();
      this.emitBytes = this.#sumBytesEmitter(this.#table);
    } else {
      this.emitBytes = (buf, start, end, value) => this.#pairBytesEmit(buf, start, end, value);
    }
  }

  get stats(): MapOutputStats {
    return { ...this.#stats, outputPairs: this.#stats.outputPairs + this.#bytePairs.n };
  }

  readonly emit = (key: string, value: unknown): void => {
    if (typeof key !== 'string') {
      throw new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit: the key must be a string, got ${typeof key}`);
    }
    this.#stats.outputPairs++;
    const mode = this.#o.combine.kind;
    if (mode === 'none') {
      const before = this.#pairs.bytes;
      this.#pairs.addString(this.#o.partition(key), key, encodeValue(value));
      this.#bytes += this.#pairs.bytes - before;
    } else if (mode === 'sum') {
      if (typeof value !== 'number') throw badSum(value);
      const idx = this.#strings.lookup(key);
      if (this.#strings.isNew) {
        this.#bytes += 2 * key.length + STRING_ENTRY_BYTES;
        if (idx === this.#sums.length) this.#sums = grow(this.#sums);
        this.#sums[idx] = value;
      } else {
        (this.#sums[idx] as number) += value;
      }
    } else {
      this.#emitToGroup(key, value);
    }
    if (this.#bytes >= this.#o.budgetBytes) this.#spill();
  };

  /** Fast-path emit of a key given as UTF-8 bytes (see the job API's `mapBytes`). */
  readonly emitBytes: (buf: Uint8Array, start: number, end: number, value: unknown, hash?: number) => void;

  /** emitBytes for the sum combiner: a closure over the table, the hottest call of word count. */
  #sumBytesEmitter(table: ByteTable): (buf: Uint8Array, start: number, end: number, value: unknown, hash?: number) => void {
    const counter = this.#bytePairs;
    const budget = this.#budget;
    return (buf, start, end, value, hash) => {
      if (typeof value !== 'number') throw badSum(value);
      counter.n++;
      const tokens = this.#tokens;
      if (tokens !== undefined) {
        tokens.add(buf, start, end, value);
        return; // its memory is checked after the countTokens call this emit is part of
      }
      const grew = table.add(buf, start, end, value, hash);
      if (grew !== 0) {
        this.#bytes += grew;
        if (this.#bytes >= budget) this.#spill();
      }
    };
  }

  /**
   * `ctx.countTokens`: emits (token, 1) for every token of buf[start, end) (see the job API). In
   * 'sum' mode the tokens are counted in place, and what `onHighRun` emits for a run is replayed
   * for later copies of it (see TokenTable); otherwise the tokens are counted per call and emitted
   * as that many pairs, which is the same to a combiner or reducer (every value is 1).
   */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun): void {
    if (this.#countingTokens) {
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', 'ctx.countTokens cannot be called from its own nonAscii function');
    }
    const tokens = (this.#tokens ??= new TokenTable());
    const sum = this.#table !== undefined;
    this.#countingTokens = true;
    let n: number;
    try {
      n = tokens.countTokens(buf, start, end, tokenBytes, onHighRun, sum);
    } finally {
      this.#countingTokens = false;
    }
    if (sum) {
      this.#bytePairs.n += n;
      if (this.#bytes + tokens.memoryBytes >= this.#budget) this.#spill();
      return;
    }
    const none = this.#o.combine.kind === 'none';
    tokens.forEachBytes((bytes, keyStart, keyEnd, count) => {
      if (none) {
        for (let i = 0; i < count; i++) this.#pairBytesEmit(bytes, keyStart, keyEnd, 1);
      } else {
        const key = utf8(bytes, keyStart, keyEnd); // once per key, not per token
        for (let i = 0; i < count; i++) this.emit(key, 1);
      }
    });
    tokens.clear();
  }

  #countingTokens = false;

  #pairBytesEmit(buf: Uint8Array, start: number, end: number, value: unknown): void {
    const o = this.#o;
    if (o.combine.kind !== 'none') {
      this.emit(utf8(buf, start, end), value);
      return;
    }
    const before = this.#pairs.bytes;
    this.#addPairBytes(buf, start, end, encodeValue(value));
    this.#stats.outputPairs++;
    this.#bytes += this.#pairs.bytes - before;
    if (this.#bytes >= this.#budget) this.#spill();
  }

  #addPairBytes(buf: Uint8Array, start: number, end: number, value: string | null): void {
    const o = this.#o;
    const part = o.partitionBytes
      ? o.partitionBytes(buf, start, end)
      : o.partition(utf8(buf, start, end));
    this.#pairs.addBytes(part, buf, start, end, value);
  }

  /** Writes the task's output run to `path` (which must not exist) and removes the spills. */
  finish(path: string): RunFooter {
    if (this.#spills.length === 0) return this.#writeBuffered(path);
    this.#spill();
    const footer = this.#mergeSpills(path);
    for (const s of this.#spills) rmSync(s, { force: true });
    return footer;
  }

  #emitToGroup(key: string, value: unknown): void {
    const idx = this.#strings.lookup(key);
    if (this.#strings.isNew) {
      this.#bytes += 2 * key.length + STRING_ENTRY_BYTES + GROUP_ENTRY_BYTES;
      if (idx === this.#valueCount.length) this.#growBlocks();
      this.#combineAt.push(COMBINE_BATCH);
      if (typeof value === 'number') {
        this.#numbers[idx * NUMERIC_BLOCK] = value;
        this.#valueCount[idx] = 1;
        this.#groups.push(undefined);
      } else {
        this.#valueCount[idx] = IN_GROUP;
        this.#groups.push([value]);
        this.#bytes += estimateBytes(value);
      }
      return;
    }
    const count = this.#valueCount[idx] as number;
    if (count !== IN_GROUP && typeof value === 'number') {
      // The common case (counts, sums): a store into a typed array, no JS array per key.
      if (count < NUMERIC_BLOCK) {
        this.#numbers[idx * NUMERIC_BLOCK + count] = value;
        this.#valueCount[idx] = count + 1;
      } else {
        this.#combineBlock(idx, key, value);
      }
      return;
    }
    if (count !== IN_GROUP) this.#toArrayGroup(idx, this.#numberValues(idx));
    this.#bytes += estimateBytes(value);
    const group = this.#groups[idx] as unknown[];
    group.push(value);
    if (group.length >= (this.#combineAt[idx] as number)) this.#setArrayGroup(idx, this.#combineGroup(key, group), group);
  }

  /** A full numeric block and one more value go through the combiner; its result goes back. */
  #combineBlock(idx: number, key: string, value: number): void {
    const values = this.#numberValues(idx);
    values.push(value);
    const combined = this.#combineGroup(key, values);
    if (combined.length < NUMERIC_BLOCK && combined.every((v) => typeof v === 'number')) {
      const base = idx * NUMERIC_BLOCK;
      for (let j = 0; j < combined.length; j++) this.#numbers[base + j] = combined[j] as number;
      this.#valueCount[idx] = combined.length;
    } else {
      // The combiner keeps (nearly) every value, or makes other things: an array group from now on.
      this.#toArrayGroup(idx, []);
      this.#setArrayGroup(idx, combined, []);
    }
  }

  /** The values in a key's numeric block, as a new array (a combiner may keep it). */
  #numberValues(idx: number): unknown[] {
    const values: unknown[] = [];
    const base = idx * NUMERIC_BLOCK;
    const count = this.#valueCount[idx] as number;
    for (let j = 0; j < count; j++) values.push(this.#numbers[base + j]);
    return values;
  }

  #toArrayGroup(idx: number, values: unknown[]): void {
    this.#valueCount[idx] = IN_GROUP;
    this.#groups[idx] = values;
    this.#bytes += 16 * values.length;
  }

  /** Replaces an array group by its combined values, and accounts for the change. */
  #setArrayGroup(idx: number, combined: unknown[], replaced: unknown[]): void {
    for (const v of replaced) this.#bytes -= estimateBytes(v);
    for (const v of combined) this.#bytes += estimateBytes(v);
    this.#groups[idx] = combined;
    // A combiner that does not shrink its input (it may keep every value) would otherwise run
    // again at every new value of a hot key: wait until the group has doubled.
    this.#combineAt[idx] = Math.max(COMBINE_BATCH, 2 * combined.length);
  }

  #growBlocks(): void {
    const numbers = new Float64Array(this.#numbers.length * 2);
    numbers.set(this.#numbers);
    this.#numbers = numbers;
    const counts = new Uint8Array(this.#valueCount.length * 2);
    counts.set(this.#valueCount);
    this.#valueCount = counts;
  }

  #combineGroup(key: string, values: unknown[]): unknown[] {
    return (this.#o.combine as Extract<CombineMode, { kind: 'function' }>).combine(key, values);
  }

  #spill(): void {
    const path = join(this.#o.spillDir, `spill-${this.#spills.length}`);
    this.#writeBuffered(path);
    this.#spills.push(path);
    this.#stats.spills++;
  }

  /** Writes what is buffered as one sorted run and empties the buffer. */
  #writeBuffered(path: string): RunFooter {
    this.#bytes = 0;
    if (this.#table !== undefined && this.#strings.size === 0) {
      // Only byte keys: sort them as bytes too, without a string per key.
      this.#takeByteSums((buf, start, end, total) => this.#addPairBytes(buf, start, end, encodeValue(total)));
    }
    if (this.#o.combine.kind === 'none' || this.#pairs.size > 0) {
      const writer = new RunWriter(path);
      this.#stats.spilledPairs += this.#pairs.size;
      this.#pairs.writeSorted(writer, this.#o.reducers);
      this.#pairs = new PairArena();
      return writer.close();
    }
    const pairs = this.#drain();
    this.#stats.spilledPairs += pairs.length;
    return this.#writeRun(path, pairs);
  }

  /** Hands every byte-keyed sum ('sum' mode: the ByteTable's and the token table's) to `fn`, and empties both. */
  #takeByteSums(fn: (bytes: Uint8Array, keyStart: number, keyEnd: number, total: number) => void): void {
    for (const table of [this.#table, this.#tokens]) {
      table?.forEachBytes(fn);
      table?.clear();
    }
  }

  /** Empties a combining buffer into a list of pairs, combined, in emission order. */
  #drain(): Pair[] {
    const pairs: Pair[] = [];
    const part = this.#o.partition;
    if (this.#o.combine.kind === 'sum') {
      const add = (key: string, n: number): void => {
        pairs.push({ key, part: part(key), value: encodeValue(n) });
      };
      this.#strings.keys.forEach((key, i) => add(key, this.#sums[i] as number));
      this.#takeByteSums((buf, start, end, total) => add(utf8(buf, start, end), total));
      this.#strings.clear();
    } else {
      const keys = this.#strings.keys;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const values = this.#valueCount[i] === IN_GROUP ? (this.#groups[i] as unknown[]) : this.#numberValues(i);
        if (values.length === 0) continue; // the combiner emitted nothing for this key so far
        for (const v of this.#combineGroup(key, values)) pairs.push({ key, part: part(key), value: encodeValue(v) });
      }
      this.#groups = [];
      this.#combineAt = [];
      this.#strings.clear();
    }
    this.#bytes = 0;
    return pairs;
  }

  #writeRun(path: string, pairs: Pair[]): RunFooter {
    const R = this.#o.reducers;
    const byPart: Pair[][] = Array.from({ length: R }, () => []);
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

  #mergeSpills(path: string): RunFooter {
    const fds = this.#spills.map((s) => openSync(s, 'r'));
    try {
      const footers = this.#spills.map((s) => readFooter(s));
      const writer = new RunWriter(path);
      const bufferBytes = Math.max(1 << 16, Math.floor(this.#o.budgetBytes / 4 / Math.max(1, fds.length)));
      for (let r = 0; r < this.#o.reducers; r++) {
        const readers = fds.map((fd, i) => {
          const seg = footers[i]?.segments[r];
          if (seg === undefined) throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${this.#spills[i]}: missing segment ${r}`);
          return new SegmentReader(fd, this.#spills[i] as string, seg, bufferBytes);
        });
        this.#mergeSegment(new Merger(readers), writer);
        writer.endSegment();
      }
      return writer.close();
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  #mergeSegment(m: Merger, writer: RunWriter): void {
    const mode = this.#o.combine.kind;
    while (m.next()) {
      const c = m.current;
      if (mode === 'none') {
        writer.writeRaw(c.buf, c.keyStart, c.keyEnd, c.buf, c.valueStart, c.valueEnd);
        continue;
      }
      m.startGroup();
      const key = c.key;
      if (mode === 'sum') {
        let total = c.value() as number;
        while (m.nextInGroup()) total += m.current.value() as number;
        writer.write(key, encodeValue(total));
      } else {
        const values: unknown[] = [c.value()];
        while (m.nextInGroup()) values.push(m.current.value());
        for (const v of this.#combineGroup(key, values)) writer.write(key, encodeValue(v));
      }
    }
  }
}

function utf8(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

function estimateBytes(v: unknown): number {
  if (typeof v === 'string') return 2 * v.length + 16;
  if (typeof v === 'object' && v !== null) return 2 * (JSON.stringify(v)?.length ?? 0) + 32;
  return 16;
}

function badSum(value: unknown): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit: the sum combiner needs numeric values, got ${typeof value}`);
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
