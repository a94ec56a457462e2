import { notAStringKey, partitionOfBytes } from './byte-keys.ts';
import type { EmitBytes, MapOutputMode, MapOutputOptions, MapOutputStats } from './map-output-mode.ts';
import type { Merger } from './merge.ts';
import { PairArena } from './pair-arena.ts';
import { encodeValue, RunWriter, type RunFooter } from './run-file.ts';
import { SpillFiles } from './spill-files.ts';
import { TokenTable, type OnHighRun } from './token-table.ts';

/**
 * The map output of a job without a combiner: every pair, as bytes in a PairArena, sorted at each
 * spill; spills are merged by copying their bytes. A sort job's millions of records take this path.
 */
export class PlainMapOutput implements MapOutputMode {
  readonly #o: MapOutputOptions;
  readonly #budget: number;
  #pairs = new PairArena();
  #outputPairs = 0;
  #spilledPairs = 0;
  /** ctx.countTokens' table, made at the first call; empty between calls. */
  #tokens: TokenTable | undefined;
  readonly #spills: SpillFiles;

  constructor(options: MapOutputOptions) {
    this.#o = options;
    this.#budget = options.budgetBytes;
    this.#spills = new SpillFiles(options, (path) => this.#writeBuffered(path), mergeSegment);
  }

  get stats(): MapOutputStats {
    return { outputPairs: this.#outputPairs, spills: this.#spills.count, spilledPairs: this.#spilledPairs };
  }

  readonly emit = (key: string, value: unknown): void => {
    if (typeof key !== 'string') {
      throw notAStringKey(key);
    }
    this.#outputPairs++;
    this.#pairs.addString(this.#o.partition(key), key, encodeValue(value));
    if (this.#pairs.bytes >= this.#budget) this.#spills.spill();
  };

  readonly emitBytes: EmitBytes = (buf, start, end, value) => {
    const text = encodeValue(value);
    this.#pairs.addBytes(partitionOfBytes(this.#o, buf, start, end), buf, start, end, text);
    this.#outputPairs++;
    if (this.#pairs.bytes >= this.#budget) this.#spills.spill();
  };

  /** Counts the chunk's tokens, then emits each token that many times with the value 1. */
  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, onHighRun?: OnHighRun): void {
    const tokens = (this.#tokens ??= new TokenTable());
    tokens.countTokens(buf, start, end, tokenBytes, onHighRun);
    tokens.forEachBytes((bytes, keyStart, keyEnd, count) => {
      for (let i = 0; i < count; i++) this.emitBytes(bytes, keyStart, keyEnd, 1);
    });
    tokens.clear();
  }

  finish(path: string): RunFooter {
    return this.#spills.finish(path);
  }

  #writeBuffered(path: string): RunFooter {
    const writer = new RunWriter(path);
    this.#spilledPairs += this.#pairs.size;
    this.#pairs.writeSorted(writer, this.#o.reducers);
    this.#pairs = new PairArena();
    return writer.close();
  }
}

/** Spilled pairs are final: merging copies their bytes. */
function mergeSegment(merged: Merger, writer: RunWriter): void {
  while (merged.next()) {
    const c = merged.current;
    writer.writeRaw(c.buf, c.keyStart, c.keyEnd, c.buf, c.valueStart, c.valueEnd);
  }
}
