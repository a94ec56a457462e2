import type { SegmentReader } from './run-file.ts';

/**
 * K-way merge of sorted segments by key bytes (compared raw, never decoded); among equal keys,
 * sources come in the order given (map task order, or spill order), so values reach `reduce` in
 * input order and output stays deterministic.
 *
 *   while (m.next()) {            // the first pair of a group
 *     m.startGroup();
 *     use(m.current.key, m.current.value());
 *     while (m.nextInGroup()) use(m.current.value());
 *   }
 */
export class Merger {
  readonly #heap: SegmentReader[] = [];
  #current: SegmentReader | undefined;
  /** The current pair is already the next one to return: nextInGroup stepped onto it. */
  #pending = false;
  #group: Buffer = Buffer.allocUnsafe(256);
  #groupLen = 0;

  constructor(sources: readonly SegmentReader[]) {
    sources.forEach((s, i) => (s.order = i));
    for (const s of sources) if (s.next()) this.#push(s);
  }

  /** The reader positioned on the current pair; valid after next() returned true. */
  get current(): SegmentReader {
    return this.#current as SegmentReader;
  }

  /** Steps to the next pair; false at the end. */
  next(): boolean {
    if (this.#pending) {
      this.#pending = false;
      return this.#current !== undefined;
    }
    return this.#advance();
  }

  /** The current group's key bytes: `groupKey[0, groupKeyLength)`, valid until the next startGroup. */
  get groupKey(): Buffer {
    return this.#group;
  }

  get groupKeyLength(): number {
    return this.#groupLen;
  }

  /** Remembers the current key as the group's, for nextInGroup. */
  startGroup(): void {
    const c = this.current;
    const len = c.keyEnd - c.keyStart;
    if (len > this.#group.length) this.#group = Buffer.allocUnsafe(Math.max(len, this.#group.length * 2));
    c.buf.copy(this.#group, 0, c.keyStart, c.keyEnd);
    this.#groupLen = len;
  }

  /** Steps to the next pair if it has the group's key; otherwise leaves it for next(). */
  nextInGroup(): boolean {
    if (this.#pending) return false;
    if (this.#advance()) {
      const c = this.current;
      if (c.keyEnd - c.keyStart === this.#groupLen && equalBytes(c.buf, c.keyStart, this.#group, this.#groupLen)) return true;
    }
    this.#pending = true;
    return false;
  }

  #advance(): boolean {
    const c = this.#current;
    if (c !== undefined && c.next()) this.#push(c);
    this.#current = this.#pop();
    return this.#current !== undefined;
  }

  #push(s: SegmentReader): void {
    const h = this.#heap;
    let i = h.length;
    h.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SegmentReader;
      if (!less(s, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = s;
  }

  #pop(): SegmentReader | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && less(h[r] as SegmentReader, h[l] as SegmentReader)) c = r;
      if (!less(h[c] as SegmentReader, last)) break;
      h[i] = h[c] as SegmentReader;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function less(a: SegmentReader, b: SegmentReader): boolean {
  const c = compareBytes(a.buf, a.keyStart, a.keyEnd, b.buf, b.keyStart, b.keyEnd);
  return c < 0 || (c === 0 && a.order < b.order);
}

/** Compares `a[as, ae)` with `b[bs, be)` as unsigned bytes: the order of `LC_ALL=C sort`. */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const x = a[as + i] as number;
    const y = b[bs + i] as number;
    if (x !== y) return x - y;
  }
  return ae - as - (be - bs);
}

function equalBytes(a: Uint8Array, as: number, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[as + i] !== b[i]) return false;
  return true;
}
