import { compareBytes } from './merge.ts';
import type { RunWriter } from './run-file.ts';

/** Bytes of bookkeeping per pair (five int32 columns), for the memory budget. */
export const PAIR_OVERHEAD = 20;
/** Positions within a partition fit 21 bits next to a 32-bit prefix in a float64's 53. */
const RANK_BITS = 2 ** 21;

/**
 * Uncombined map output, held as bytes: keys and JSON values in one arena, and per pair its key
 * and value ranges and partition in typed arrays. No JavaScript object per pair, so a sort job's
 * millions of records cost memory only for their bytes, and sorting runs on numbers: pairs are
 * ordered by (first 4 key bytes, position) with the native Float64Array sort, and only runs with
 * an equal prefix are compared byte by byte.
 */
export class PairArena {
  #arena = Buffer.allocUnsafe(1 << 16);
  #pos = 0;
  #count = 0;
  #keyStart: Int32Array = new Int32Array(1024);
  #keyLen: Int32Array = new Int32Array(1024);
  #valStart: Int32Array = new Int32Array(1024);
  #valLen: Int32Array = new Int32Array(1024);
  #part: Int32Array = new Int32Array(1024);

  get size(): number {
    return this.#count;
  }

  /** Bytes held, for the memory budget. */
  get bytes(): number {
    return this.#pos + this.#count * PAIR_OVERHEAD;
  }

  addString(part: number, key: string, value: string | null): void {
    const maxKey = key.length * 3;
    const maxVal = value === null ? 0 : value.length * 3;
    this.#reserve(maxKey + maxVal);
    const i = this.#next(part);
    const arena = this.#arena;
    this.#keyStart[i] = this.#pos;
    const kl = maxKey === 0 ? 0 : arena.write(key, this.#pos);
    this.#keyLen[i] = kl;
    this.#pos += kl;
    this.#valStart[i] = this.#pos;
    const vl = value === null ? 0 : arena.write(value, this.#pos);
    this.#valLen[i] = vl;
    this.#pos += vl;
  }

  addBytes(part: number, buf: Uint8Array, start: number, end: number, value: string | null): void {
    const maxVal = value === null ? 0 : value.length * 3;
    this.#reserve(end - start + maxVal);
    const i = this.#next(part);
    const arena = this.#arena;
    this.#keyStart[i] = this.#pos;
    this.#keyLen[i] = end - start;
    arena.set(buf.subarray(start, end), this.#pos);
    this.#pos += end - start;
    this.#valStart[i] = this.#pos;
    const vl = value === null ? 0 : arena.write(value, this.#pos);
    this.#valLen[i] = vl;
    this.#pos += vl;
  }

  /** Writes all pairs as R sorted segments (ties in insertion order). */
  writeSorted(writer: RunWriter, reducers: number): void {
    const n = this.#count;
    const starts = new Int32Array(reducers + 1);
    for (let i = 0; i < n; i++) (starts[(this.#part[i] as number) + 1] as number)++;
    for (let r = 0; r < reducers; r++) (starts[r + 1] as number) += starts[r] as number;
    const order = new Int32Array(n);
    const fill = starts.slice(0, reducers);
    for (let i = 0; i < n; i++) order[(fill[this.#part[i] as number] as number)++] = i;
    const arena = this.#arena;
    for (let r = 0; r < reducers; r++) {
      const from = starts[r] as number;
      const to = starts[r + 1] as number;
      const sorted = this.#sortRange(order.subarray(from, to));
      for (let j = 0; j < sorted.length; j++) {
        const i = sorted[j] as number;
        const ks = this.#keyStart[i] as number;
        const vs = this.#valStart[i] as number;
        writer.writeRaw(arena, ks, ks + (this.#keyLen[i] as number), arena, vs, vs + (this.#valLen[i] as number));
      }
      writer.endSegment();
    }
  }

  /** Sorts pair indices (given in insertion order) by key bytes, stably. */
  #sortRange(ids: Int32Array): Int32Array {
    const n = ids.length;
    const ks = this.#keyStart;
    const kl = this.#keyLen;
    const arena = this.#arena;
    const cmp = (a: number, b: number): number =>
      compareBytes(arena, ks[a] as number, (ks[a] as number) + (kl[a] as number), arena, ks[b] as number, (ks[b] as number) + (kl[b] as number)) || a - b;
    if (n > RANK_BITS) {
      // Too many for the rank bits next to a 32-bit prefix in a double: sort slices of RANK_BITS
      // the fast way and merge them (a comparison sort of millions of pairs is several times slower).
      let runs: Int32Array[] = [];
      for (let s = 0; s < n; s += RANK_BITS) runs.push(this.#sortRange(ids.subarray(s, Math.min(n, s + RANK_BITS))));
      while (runs.length > 1) {
        const next: Int32Array[] = [];
        for (let r = 0; r < runs.length; r += 2) next.push(r + 1 < runs.length ? mergeRuns(runs[r] as Int32Array, runs[r + 1] as Int32Array, cmp) : (runs[r] as Int32Array));
        runs = next;
      }
      return runs[0] as Int32Array;
    }
    const keys = new Float64Array(n);
    for (let j = 0; j < n; j++) keys[j] = this.#prefix(ids[j] as number) * RANK_BITS + j;
    keys.sort();
    const out = new Int32Array(n);
    for (let j = 0; j < n; j++) out[j] = ids[(keys[j] as number) % RANK_BITS] as number;
    // Pairs with equal 4-byte prefixes: order them by their whole keys.
    for (let j = 0; j < n; ) {
      const p = Math.floor((keys[j] as number) / RANK_BITS);
      let e = j + 1;
      while (e < n && Math.floor((keys[e] as number) / RANK_BITS) === p) e++;
      if (e - j > 1 && !sameShortKeys(out, j, e, kl)) out.subarray(j, e).sort(cmp);
      j = e;
    }
    return out;
  }

  /** The first 4 key bytes as a big-endian number, missing bytes as 0. */
  #prefix(i: number): number {
    const s = this.#keyStart[i] as number;
    const len = this.#keyLen[i] as number;
    const a = this.#arena;
    return (
      ((len > 0 ? (a[s] as number) : 0) * 0x1000000) +
      ((len > 1 ? (a[s + 1] as number) : 0) << 16) +
      ((len > 2 ? (a[s + 2] as number) : 0) << 8) +
      (len > 3 ? (a[s + 3] as number) : 0)
    );
  }

  #next(part: number): number {
    const i = this.#count++;
    if (i === this.#part.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#keyStart = grow(this.#keyStart);
      this.#keyLen = grow(this.#keyLen);
      this.#valStart = grow(this.#valStart);
      this.#valLen = grow(this.#valLen);
      this.#part = grow(this.#part);
    }
    this.#part[i] = part;
    return i;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#arena.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#pos + n));
    this.#arena.copy(bigger, 0, 0, this.#pos);
    this.#arena = bigger;
  }
}

/** Merges two sorted runs; on ties `a` first (its pairs were inserted earlier: the sort is stable). */
function mergeRuns(a: Int32Array, b: Int32Array, cmp: (x: number, y: number) => number): Int32Array {
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = cmp(a[i] as number, b[j] as number) <= 0 ? (a[i++] as number) : (b[j++] as number);
  while (i < a.length) out[k++] = a[i++] as number;
  while (j < b.length) out[k++] = b[j++] as number;
  return out;
}

/**
 * Whether the pairs `ids[from, to)`, which share a 4-byte prefix, all have the same key of at most
 * 4 bytes: the prefix then is the whole key, so they are equal and already in insertion order.
 * Frequent keys are short (the Zipf head of a text: "the", "of", "a"), and their runs are long.
 */
function sameShortKeys(ids: Int32Array, from: number, to: number, keyLen: Int32Array): boolean {
  const len = keyLen[ids[from] as number] as number;
  if (len > 4) return false;
  for (let x = from + 1; x < to; x++) if (keyLen[ids[x] as number] !== len) return false;
  return true;
}
