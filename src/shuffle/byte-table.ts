import { hashBytes } from './partition.ts';

/**
 * An open-addressing hash table from byte-string keys to numbers, adding values in place: the
 * map-side `sum` combiner for the byte fast path. No JavaScript string or object is created per
 * key or per emit, which is what lets word count run near the speed of C.
 */
export class ByteTable {
  #slots: Int32Array; // entry index + 1, or 0 if empty
  #hashes: Int32Array;
  #keyStart: Int32Array;
  #keyLen: Int32Array;
  #values: Float64Array;
  #arena: Buffer;
  #arenaPos = 0;
  #count = 0;

  constructor(initialSlots = 1 << 14) {
    this.#slots = new Int32Array(initialSlots);
    this.#hashes = new Int32Array(initialSlots >> 1);
    this.#keyStart = new Int32Array(initialSlots >> 1);
    this.#keyLen = new Int32Array(initialSlots >> 1);
    this.#values = new Float64Array(initialSlots >> 1);
    this.#arena = Buffer.allocUnsafe(initialSlots * 8);
  }

  get size(): number {
    return this.#count;
  }

  /** Bytes held, for the memory budget. */
  get bytes(): number {
    return this.#arena.length + this.#slots.length * 4 + this.#values.length * 20;
  }

  add(buf: Uint8Array, start: number, end: number, value: number): void {
    const h = hashBytes(buf, start, end) | 0;
    const len = end - start;
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    for (;;) {
      const e = slots[i] as number;
      if (e === 0) break;
      const idx = e - 1;
      if (this.#hashes[idx] === h && this.#keyLen[idx] === len && this.#same(idx, buf, start, len)) {
        (this.#values[idx] as number) += value;
        return;
      }
      i = (i + 1) & mask;
    }
    this.#insert(i, h, buf, start, len, value);
  }

  /** Calls `fn` for every entry with its key decoded as UTF-8. */
  forEach(fn: (key: string, value: number) => void): void {
    for (let idx = 0; idx < this.#count; idx++) {
      const s = this.#keyStart[idx] as number;
      fn(this.#arena.toString('utf8', s, s + (this.#keyLen[idx] as number)), this.#values[idx] as number);
    }
  }

  #same(idx: number, buf: Uint8Array, start: number, len: number): boolean {
    const arena = this.#arena;
    let a = this.#keyStart[idx] as number;
    for (let j = 0; j < len; j++) if (arena[a++] !== buf[start + j]) return false;
    return true;
  }

  #insert(slot: number, h: number, buf: Uint8Array, start: number, len: number, value: number): void {
    if (this.#arenaPos + len > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#arenaPos + len));
      this.#arena.copy(bigger, 0, 0, this.#arenaPos);
      this.#arena = bigger;
    }
    for (let j = 0; j < len; j++) this.#arena[this.#arenaPos + j] = buf[start + j] as number;
    const idx = this.#count++;
    this.#hashes[idx] = h;
    this.#keyStart[idx] = this.#arenaPos;
    this.#keyLen[idx] = len;
    this.#values[idx] = value;
    this.#arenaPos += len;
    this.#slots[slot] = idx + 1;
    if (this.#count * 2 >= this.#slots.length) this.#grow();
  }

  #grow(): void {
    const n = this.#slots.length * 2;
    const slots = new Int32Array(n);
    const mask = n - 1;
    for (let idx = 0; idx < this.#count; idx++) {
      let i = (this.#hashes[idx] as number) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = idx + 1;
    }
    this.#slots = slots;
    this.#hashes = resize(this.#hashes, n >> 1);
    this.#keyStart = resize(this.#keyStart, n >> 1);
    this.#keyLen = resize(this.#keyLen, n >> 1);
    const values = new Float64Array(n >> 1);
    values.set(this.#values);
    this.#values = values;
  }
}

function resize(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
