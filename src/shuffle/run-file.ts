import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import { TorpedoError } from '../errors.ts';

/**
 * The on-disk format of a sorted run: a spill, or a map task's final output.
 *
 *   [segment 0][segment 1]…[segment R-1][footer JSON][footer length: u32 LE][magic "TPDORUN1"]
 *
 * Segment r holds the pairs of partition r, sorted by key bytes (ties in emission order). A pair is
 * `varint(keyBytes) key varint(valueBytes) value`, the value as JSON text; length 0 means null
 * (`encodeValue` and `decodeValue` below). The footer lists each segment's offset, length and pair
 * count.
 */
export interface Segment {
  readonly offset: number;
  readonly length: number;
  readonly pairs: number;
}

export interface RunFooter {
  readonly segments: readonly Segment[];
}

const MAGIC = Buffer.from('TPDORUN1');
const TAIL = 4 + MAGIC.length;

export class RunWriter extends BufferedFileWriter {
  #segStart = 0;
  #segPairs = 0;
  readonly #segments: Segment[] = [];

  /** Offset of the next byte to be written, counting buffered bytes. */
  get #offset(): number {
    return this.written + this.pos;
  }

  /** Writes one pair to the current segment. `value` is JSON text, or null (see encodeValue). */
  write(key: string, value: string | null): void {
    this.#writeText(key);
    if (value === null) {
      this.ensure(1);
      this.buf[this.pos++] = 0;
    } else {
      this.#writeText(value);
    }
    this.#segPairs++;
  }

  /** Writes one pair from raw bytes: key `kb[ks, ke)`, value JSON text `vb[vs, ve)` (empty: null). */
  writeRaw(kb: Uint8Array, ks: number, ke: number, vb: Uint8Array, vs: number, ve: number): void {
    this.ensure(ke - ks + ve - vs + 10);
    const buf = this.buf;
    let pos = writeVarint(buf, this.pos, ke - ks);
    copyBytes(kb, ks, ke, buf, pos);
    pos += ke - ks;
    pos = writeVarint(buf, pos, ve - vs);
    copyBytes(vb, vs, ve, buf, pos);
    this.pos = pos + ve - vs;
    this.#segPairs++;
  }

  /** Ends the current segment; call exactly R times, in partition order. */
  endSegment(): void {
    const end = this.#offset;
    this.#segments.push({ offset: this.#segStart, length: end - this.#segStart, pairs: this.#segPairs });
    this.#segStart = end;
    this.#segPairs = 0;
  }

  close(): RunFooter {
    const footer: RunFooter = { segments: this.#segments };
    const json = Buffer.from(JSON.stringify(footer));
    const tail = Buffer.alloc(TAIL);
    tail.writeUInt32LE(json.length, 0);
    MAGIC.copy(tail, 4);
    this.finish(json, tail);
    return footer;
  }

  #writeText(text: string): void {
    const max = text.length * 3;
    if (max < 128) {
      this.ensure(max + 1);
      const n = this.buf.write(text, this.pos + 1);
      this.buf[this.pos] = n;
      this.pos += n + 1;
      return;
    }
    const n = Buffer.byteLength(text);
    this.ensure(n + 5);
    this.pos = writeVarint(this.buf, this.pos, n);
    this.pos += this.buf.write(text, this.pos);
  }
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/**
 * A pair's value as it is written: JSON text, or null for null and undefined (an empty value).
 * Numbers that are not finite become JSON's null, as in JSON.stringify. Who calls: every writer of
 * run-file pairs (the map outputs), and of part files (OutputWriter, a reduce that sums).
 */
export function encodeValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit: a ${typeof value} value cannot be encoded as JSON`);
  }
  return text;
}

/** The value whose encoded text is `buf[start, end)`: the inverse of encodeValue (empty: null). */
export function decodeValue(buf: Buffer, start: number, end: number): unknown {
  if (start === end) return null;
  return JSON.parse(buf.toString('utf8', start, end));
}

/** Reads a run's footer. Who calls: map tasks merging spills, reduce tasks opening map outputs. */
export function readFooter(path: string): RunFooter {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(TAIL);
    if (size < TAIL || readSync(fd, tail, 0, TAIL, size - TAIL) !== TAIL || !tail.subarray(4).equals(MAGIC)) {
      throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${path}: not a complete torpedo run file`);
    }
    const len = tail.readUInt32LE(0);
    const json = Buffer.alloc(len);
    readSync(fd, json, 0, len, size - TAIL - len);
    return JSON.parse(json.toString('utf8')) as RunFooter;
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams the pairs of one segment with synchronous reads into a bounded buffer. Usage:
 * `while (r.next()) use(r.key, r.value())`. The current pair's bytes are `buf[keyStart, keyEnd)`
 * and `buf[valueStart, valueEnd)` (empty value: null), valid until the next `next()`.
 */
export class SegmentReader {
  /** Tie-break rank among merged sources, set by Merger. */
  order = 0;
  buf: Buffer;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  readonly #fd: number;
  readonly #path: string;
  #mark = 0; // first byte of the current pair in buf
  #start = 0; // first unread byte in buf
  #end = 0; // end of valid bytes in buf
  #filePos: number; // file offset of buf[#end]
  readonly #fileEnd: number;
  #pairsLeft: number;
  #key: string | undefined;

  constructor(fd: number, path: string, segment: Segment, bufferBytes: number) {
    this.#fd = fd;
    this.#path = path;
    this.#filePos = segment.offset;
    this.#fileEnd = segment.offset + segment.length;
    this.#pairsLeft = segment.pairs;
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(bufferBytes, segment.length)));
  }

  next(): boolean {
    if (this.#pairsLeft === 0) return false;
    this.#pairsLeft--;
    this.#key = undefined;
    this.#mark = this.#start;
    const keyLen = this.#readLength();
    this.#fill(keyLen);
    this.keyStart = this.#start;
    this.#start += keyLen;
    this.keyEnd = this.#start;
    const valLen = this.#readLength();
    this.#fill(valLen);
    this.valueStart = this.#start;
    this.#start += valLen;
    this.valueEnd = this.#start;
    return true;
  }

  /** The current pair's key, decoded once. */
  get key(): string {
    return (this.#key ??= this.buf.toString('utf8', this.keyStart, this.keyEnd));
  }

  /** The current pair's value, parsed from JSON. */
  value(): unknown {
    return decodeValue(this.buf, this.valueStart, this.valueEnd);
  }

  #readLength(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.#fill(1);
      const b = this.buf[this.#start++] as number;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    throw this.#corrupt('bad length prefix');
  }

  /**
   * Makes sure `n` unread bytes are in the buffer. When it must read more, it first moves the
   * current pair's bytes (from #mark) to the front, so keyStart/keyEnd stay valid.
   */
  #fill(n: number): void {
    if (this.#end - this.#start >= n) return;
    const shift = this.#mark;
    const keep = this.#end - shift;
    const need = this.#start - shift + n;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, shift, this.#end);
      this.buf = bigger;
    } else if (shift > 0) {
      this.buf.copy(this.buf, 0, shift, this.#end);
    }
    this.#start -= shift;
    this.#mark = 0;
    this.keyStart -= shift;
    this.keyEnd -= shift;
    this.#end = keep;
    while (this.#end - this.#start < n) {
      const want = Math.min(this.buf.length - this.#end, this.#fileEnd - this.#filePos);
      if (want <= 0) throw this.#corrupt('segment ends inside a pair');
      const got = readSync(this.#fd, this.buf, this.#end, want, this.#filePos);
      if (got === 0) throw this.#corrupt('file ends inside a segment');
      this.#end += got;
      this.#filePos += got;
    }
  }

  #corrupt(what: string): TorpedoError {
    return new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${this.#path}: ${what}`);
  }
}

/** Copies `from[start, end)` to `to` at `at`: short runs byte by byte (no subarray object per pair). */
function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start > 32) {
    to.set(from.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) to[at++] = from[i] as number;
}
