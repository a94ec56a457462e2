import { doubleSlots, SLOT } from './open-slots.ts';

/** Memory per entry beyond its key bytes: a 16-byte slot at load ≤ 0.5, plus its value. */
const ENTRY_BYTES = 2 * 16 + 8;

/**
 * An open-addressing hash table from byte-string keys to numbers, adding values in place: the
 * map-side `sum` combiner for the byte fast path. No JavaScript string or object is created per
 * key or per emit, which is what lets word count run near the speed of C. A slot keeps the hash
 * and the key's place together so that a lookup touches one cache line before the key bytes.
 */
export class ByteTable {
  #slots: Int32Array;
  #mask: number;
  #values: Float64Array;
  #arena: Buffer;
  #arenaPos = 0;
  #count = 0;

  constructor(initialSlots = 1 << 14) {
    this.#slots = new Int32Array(initialSlots * SLOT);
    this.#mask = initialSlots - 1;
    this.#values = new Float64Array(initialSlots >> 1);
    this.#arena = Buffer.allocUnsafe(initialSlots * 8);
  }

  get size(): number {
    return this.#count;
  }

  /** Empties the table, keeping its memory for reuse. */
  clear(): void {
    this.#slots.fill(0);
    this.#arenaPos = 0;
    this.#count = 0;
  }

  /**
   * Adds `value` to the key's total; returns the bytes of memory the table grew by. `hash` is the
   * key's FNV-1a if the caller computed it while scanning; a wrong one only costs a duplicate
   * entry (combined later like any other pair), never a wrong total.
   */
  add(buf: Uint8Array, start: number, end: number, value: number, hash?: number): number {
    let h: number;
    if (hash === undefined) {
      h = 0x811c9dc5 | 0; // FNV-1a, inlined: this is the hottest loop of word-count-like jobs
      for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    } else {
      h = hash | 0;
    }
    const len = end - start;
    const slots = this.#slots;
    const arena = this.#arena;
    const mask = this.#mask;
    let i = h & mask;
    for (;;) {
      const s = i * SLOT;
      const e = slots[s + 1] as number;
      if (e === 0) break;
      if (slots[s] === h && slots[s + 3] === len) {
        const a = slots[s + 2] as number;
        let j = 0;
        while (j < len && arena[a + j] === buf[start + j]) j++;
        if (j === len) {
          (this.#values[e - 1] as number) += value;
          return 0;
        }
      }
      i = (i + 1) & mask;
    }
    this.#insert(i, h, buf, start, len, value);
    return len + ENTRY_BYTES;
  }

  /**
   * Calls `fn` for every entry in insertion order, with the key as `bytes[keyStart, keyEnd)` (the
   * table's own memory: valid only during the call) and its total.
   */
  forEachBytes(fn: (bytes: Uint8Array, keyStart: number, keyEnd: number, total: number) => void): void {
    const slots = this.#slots;
    const starts = new Int32Array(this.#count);
    const lens = new Int32Array(this.#count);
    for (let s = 0; s < slots.length; s += SLOT) {
      const e = slots[s + 1] as number;
      if (e !== 0) {
        starts[e - 1] = slots[s + 2] as number;
        lens[e - 1] = slots[s + 3] as number;
      }
    }
    for (let idx = 0; idx < this.#count; idx++) {
      const a = starts[idx] as number;
      fn(this.#arena, a, a + (lens[idx] as number), this.#values[idx] as number);
    }
  }

  #insert(slot: number, h: number, buf: Uint8Array, start: number, len: number, value: number): void {
    if (this.#arenaPos + len > this.#arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#arenaPos + len));
      this.#arena.copy(bigger, 0, 0, this.#arenaPos);
      this.#arena = bigger;
    }
    const arena = this.#arena;
    const at = this.#arenaPos;
    for (let j = 0; j < len; j++) arena[at + j] = buf[start + j] as number;
    const idx = this.#count++;
    if (idx >= this.#values.length) {
      const values = new Float64Array(this.#values.length * 2);
      values.set(this.#values);
      this.#values = values;
    }
    this.#values[idx] = value;
    const s = slot * SLOT;
    this.#slots[s] = h;
    this.#slots[s + 1] = idx + 1;
    this.#slots[s + 2] = at;
    this.#slots[s + 3] = len;
    this.#arenaPos += len;
    if (this.#count * 2 > this.#mask + 1) this.#grow();
  }

  #grow(): void {
    this.#slots = doubleSlots(this.#slots);
    this.#mask = this.#slots.length / SLOT - 1;
  }
}
