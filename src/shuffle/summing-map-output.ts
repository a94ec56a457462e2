import { TorpedoError } from '../errors.ts';
import { ByteTable } from './byte-table.ts';
import { keyText, notAStringKey, partitionOfBytes } from './byte-keys.ts';
import type { EmitBytes, MapOutputMode, MapOutputOptions, MapOutputStats } from './map-output-mode.ts';
import type { Merger } from './merge.ts';
import { PairArena } from './pair-arena.ts';
import { writePairList, type Pair } from './pair-list.ts';
import { encodeValue, RunWriter, type RunFooter } from './run-file.ts';
import { SpillFiles } from './spill-files.ts';
import { STRING_ENTRY_BYTES, StringTable } from './string-table.ts';
import { TokenTable, type OnHighRun } from './token-table.ts';

/**
 * The map output of the `sum` combiner: one running total per key, so a spill holds one pair per
 * key. String keys (emit) are counted in a StringTable, byte keys (emitBytes) in a ByteTable, and
 * ctx.countTokens' tokens in a TokenTable in WebAssembly memory; this is built-in word count's path.
 */
export class SummingMapOutput implements MapOutputMode {
  readonly #o: MapOutputOptions;
  readonly #budget: number;
  /** Bytes the tables take, as far as the budget is concerned (the token table's are asked for). */
  #bytes = 0;
  /** String keys, each with a dense index into #sums. */
  readonly #strings = new StringTable();
  #sums: Float64Array = new Float64Array(1024);
  /** Byte-keyed sums of emitBytes (until countTokens is first called). */
  readonly #table = new ByteTable();
  /**
   * Tokens counted by countTokens, with their totals. Made at the first call; emitBytes counts
   * here too from then on, so that a key's total is in one table.
   */
  #tokens: TokenTable | undefined;
  #outputPairs = 0;
  /** Pairs given to emitBytes or counted by countTokens: apart, for the emitBytes closure. */
  readonly #bytePairs = { n: 0 };
  #spilledPairs = 0;
  readonly #spills: SpillFiles;

  constructor(options: MapOutputOptions) {
    this.#o = options;
    this.#budget = options.budgetBytes;
    this.#spills = new SpillFiles(options, (path) => this.#writeBuffered(path), mergeSegment);
    this.emitBytes = this.#sumBytesEmitter(this.#table);
  }

  get stats(): MapOutputStats {
    return { outputPairs: this.#outputPairs + this.#bytePairs.n, spills: this.#spills.count, spilledPairs: this.#spilledPairs };
  }

  readonly emit = (key: string, value: unknown): void => {
    if (typeof key !== 'string') {
      throw notAStringKey(key);
    }
    this.#outputPairs++;
    if (typeof value !== 'number') throw badSum(value);
    const idx = this.#strings.lookup(key);
    if (this.#strings.isNew) {
      this.#bytes += 2 * key.length + STRING_ENTRY_BYTES;
      if (idx === this.#sums.length) this.#sums = grow(this.#sums);
      this.#sums[idx] = value;
    } else {
      (this.#sums[idx] as number) += value;
    }
    if (this.#bytes >= this.#budget) this.#spills.spill();
  };

  readonly emitBytes: EmitBytes;

  /** emitBytes: a closure over the table, the hottest call of word count. */
  #sumBytesEmitter(table: ByteTable): EmitBytes {
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
        if (this.#bytes >= budget) this.#spills.spill();
      }
    };
  }

  /**
   * Counts the tokens in place; what `onHighRun` emits for a run is replayed for later copies of
   * it (see TokenTable).
   */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun): void {
    const tokens = (this.#tokens ??= new TokenTable());
    // Not `n += countTokens(…)`: that would read n before the emits the call makes.
    const counted = tokens.countTokens(buf, start, end, tokenBytes, onHighRun, true);
    this.#bytePairs.n += counted;
    if (this.#bytes + tokens.memoryBytes >= this.#budget) this.#spills.spill();
  }

  finish(path: string): RunFooter {
    return this.#spills.finish(path);
  }

  #writeBuffered(path: string): RunFooter {
    this.#bytes = 0;
    if (this.#strings.size > 0) {
      const pairs = this.#drain();
      this.#spilledPairs += pairs.length;
      return writePairList(path, pairs, this.#o.reducers);
    }
    // Only byte keys: sort them as bytes too, without a string per key.
    const arena = new PairArena();
    this.#takeByteSums((buf, start, end, total) => arena.addBytes(partitionOfBytes(this.#o, buf, start, end), buf, start, end, encodeValue(total)));
    const writer = new RunWriter(path);
    this.#spilledPairs += arena.size;
    arena.writeSorted(writer, this.#o.reducers);
    return writer.close();
  }

  /** Hands every byte-keyed sum (the ByteTable's and the token table's) to `fn`, and empties both. */
  #takeByteSums(fn: (bytes: Uint8Array, keyStart: number, keyEnd: number, total: number) => void): void {
    for (const table of [this.#table, this.#tokens]) {
      table?.forEachBytes(fn);
      table?.clear();
    }
  }

  /** Empties the tables into a list of pairs, string keys first. */
  #drain(): Pair[] {
    const pairs: Pair[] = [];
    const part = this.#o.partition;
    const add = (key: string, n: number): void => {
      pairs.push({ key, part: part(key), value: encodeValue(n) });
    };
    this.#strings.keys.forEach((key, i) => add(key, this.#sums[i] as number));
    this.#takeByteSums((buf, start, end, total) => add(keyText(buf, start, end), total));
    this.#strings.clear();
    return pairs;
  }
}

/** One pair per key: the total of its spilled totals. */
function mergeSegment(merged: Merger, writer: RunWriter): void {
  while (merged.next()) {
    const c = merged.current;
    merged.startGroup();
    const key = c.key;
    let total = c.value() as number;
    while (merged.nextInGroup()) total += merged.current.value() as number;
    writer.write(key, encodeValue(total));
  }
}

function badSum(value: unknown): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit: the sum combiner needs numeric values, got ${typeof value}`);
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
