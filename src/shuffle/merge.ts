import { compareAsciiOrder, compareKeys } from './key-order.ts';
import type { SegmentReader } from './run-file.ts';

/**
 * K-way merge of sorted segments by key bytes; among equal keys, sources come in the order given
 * (map task order, or spill order), so values reach `reduce` in input order and output stays
 * deterministic. Usage mirrors SegmentReader: `while (m.next()) use(m.key, m.value())`.
 */
export class Merger {
  key = '';
  readonly #heap: SegmentReader[] = [];
  readonly #cmp: (a: string, b: string) => number;
  #current: SegmentReader | undefined;

  constructor(sources: readonly SegmentReader[]) {
    this.#cmp = sources.some((s) => s.highKeys) ? compareKeys : compareAsciiOrder;
    sources.forEach((s, i) => (s.order = i));
    for (const s of sources) if (s.next()) this.#push(s);
  }

  next(): boolean {
    if (this.#current !== undefined) {
      if (this.#current.next()) this.#push(this.#current);
      this.#current = undefined;
    }
    const top = this.#pop();
    if (top === undefined) return false;
    this.#current = top;
    this.key = top.key;
    return true;
  }

  value(): unknown {
    return (this.#current as SegmentReader).value();
  }

  valueText(): string | null {
    return (this.#current as SegmentReader).valueText();
  }

  /** True if the next pair (after the current one) has this key; for grouping without reading ahead. */
  nextHasKey(key: string): boolean {
    if (this.#current !== undefined) {
      if (this.#current.next()) this.#push(this.#current);
      this.#current = undefined;
    }
    const top = this.#heap[0];
    return top !== undefined && top.key === key;
  }

  #less(a: SegmentReader, b: SegmentReader): boolean {
    const c = this.#cmp(a.key, b.key);
    return c < 0 || (c === 0 && a.order < b.order);
  }

  #push(s: SegmentReader): void {
    const h = this.#heap;
    let i = h.length;
    h.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SegmentReader;
      if (!this.#less(s, parent)) break;
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
      if (r < n && this.#less(h[r] as SegmentReader, h[l] as SegmentReader)) c = r;
      if (!this.#less(h[c] as SegmentReader, last)) break;
      h[i] = h[c] as SegmentReader;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
