import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import { TorpedoError } from '../errors.ts';

/**
 * The on-disk format of a sorted run: a spill, or a map task's final output.
 *
 *   [segment 0]…[segment R-1][footer JSON][footer length: u32 LE][footer CRC32: u32 LE][magic "TPDORUN2"]
 *
 * Segment r holds the pairs of partition r, sorted by key bytes (ties in emission order). A pair is
 * `varint(keyBytes) key varint(valueBytes) value`, the value as JSON text; length 0 means null
 * (`encodeValue` and `decodeValue` below). The footer lists each segment's offset, length and pair
 * count, and a CRC32 of each CHUNK_BYTES chunk of the segment (counted from the segment's start;
 * the last one may be shorter). Like Hadoop's IFile checksums, they make damage loud: a reader
 * checks each chunk before it parses a byte of it, and the footer against its own CRC, so a
 * flipped bit or a cut-off file is a TORPEDO_ERR_CORRUPT_DATA naming the file (details.file),
 * never wrong pairs. The master then re-runs the map task that wrote it (docs/architecture.md).
 */
export interface Segment {
  readonly offset: number;
  readonly length: number;
  readonly pairs: number;
  /** CRC32 (zlib's) of each chunk of the segment, in order. */
  readonly crcs: readonly number[];
}

export interface RunFooter {
  readonly segments: readonly Segment[];
}

/** Bytes per checksummed chunk: small next to a read buffer, large next to the cost of one crc32 call. */
export const CHUNK_BYTES = 1 << 16;
const MAGIC = Buffer.from('TPDORUN2');
const TAIL = 8 + MAGIC.length;

const FooterSchema = z.object({
  segments: z.array(
    z.object({
      offset: z.number().int().nonnegative(),
      length: z.number().int().nonnegative(),
      pairs: z.number().int().nonnegative(),
      crcs: z.array(z.number().int().nonnegative()),
    }),
  ),
});

export class RunWriter extends BufferedFileWriter {
  #segStart = 0;
  #segPairs = 0;
  readonly #segments: Segment[] = [];
  /** File offset up to which bytes have gone into the checksums. */
  #summed = 0;
  #chunkCrc = 0;
  #chunkBytes = 0;
  #segCrcs: number[] = [];

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
    this.#sumBuffered();
    if (this.#chunkBytes > 0) this.#endChunk();
    this.#segments.push({ offset: this.#segStart, length: end - this.#segStart, pairs: this.#segPairs, crcs: this.#segCrcs });
    this.#segStart = end;
    this.#segPairs = 0;
    this.#segCrcs = [];
  }

  close(): RunFooter {
    const footer: RunFooter = { segments: this.#segments };
    const json = Buffer.from(JSON.stringify(footer));
    const tail = Buffer.alloc(TAIL);
    tail.writeUInt32LE(json.length, 0);
    tail.writeUInt32LE(crc32(json), 4);
    MAGIC.copy(tail, 8);
    this.finish(json, tail);
    return footer;
  }

  /** The buffer goes to the file: its bytes go into the checksums first. */
  protected override flush(): void {
    this.#sumBuffered();
    super.flush();
  }

  /** Adds the buffered bytes not summed yet to the current chunk's CRC, chunk by chunk. */
  #sumBuffered(): void {
    let from = this.#summed - this.written;
    const to = this.pos;
    while (from < to) {
      const n = Math.min(to - from, CHUNK_BYTES - this.#chunkBytes);
      this.#chunkCrc = crc32(this.buf.subarray(from, from + n), this.#chunkCrc);
      this.#chunkBytes += n;
      from += n;
      if (this.#chunkBytes === CHUNK_BYTES) this.#endChunk();
    }
    this.#summed = this.written + to;
  }

  #endChunk(): void {
    this.#segCrcs.push(this.#chunkCrc);
    this.#chunkCrc = 0;
    this.#chunkBytes = 0;
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

/**
 * Reads and checks a run's footer: its CRC, its shape, and that its segments cover the file up to
 * the footer exactly (so a truncated or extended file is caught here). Who calls: map tasks
 * merging spills, reduce tasks opening map outputs, a restarted master adopting them.
 */
export function readFooter(path: string): RunFooter {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw corruptRun(path, 'is missing');
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(TAIL);
    if (size < TAIL || readSync(fd, tail, 0, TAIL, size - TAIL) !== TAIL || !tail.subarray(8).equals(MAGIC)) {
      throw corruptRun(path, `is not a complete torpedo run file (${size} bytes, no end marker: cut off?)`);
    }
    const len = tail.readUInt32LE(0);
    const json = Buffer.alloc(len);
    if (len > size - TAIL || readSync(fd, json, 0, len, size - TAIL - len) !== len || crc32(json) !== tail.readUInt32LE(4)) {
      throw corruptRun(path, 'has a damaged index (footer checksum mismatch)');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json.toString('utf8'));
    } catch {
      throw corruptRun(path, 'has an index that is not JSON');
    }
    const footer = FooterSchema.safeParse(parsed);
    if (!footer.success) throw corruptRun(path, 'has a malformed index');
    checkLayout(path, footer.data, size - TAIL - len);
    return footer.data;
  } finally {
    closeSync(fd);
  }
}

/** Segments must follow each other from offset 0 to the footer, with one CRC per chunk. */
function checkLayout(path: string, footer: RunFooter, footerStart: number): void {
  let at = 0;
  footer.segments.forEach((seg, r) => {
    if (seg.offset !== at || seg.crcs.length !== Math.ceil(seg.length / CHUNK_BYTES)) {
      throw corruptRun(path, `has an index that does not match its segment ${r}`);
    }
    at += seg.length;
  });
  if (at !== footerStart) throw corruptRun(path, `has ${footerStart} bytes of segments where its index lists ${at}`);
}

/** A damaged or missing run file; `details.file` names it, for the master to find who wrote it. */
export function corruptRun(path: string, what: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${path} ${what}`, { file: path });
}

/**
 * Streams the pairs of one segment with synchronous reads into a bounded buffer. Usage:
 * `while (r.next()) use(r.key, r.value())`. The current pair's bytes are `buf[keyStart, keyEnd)`
 * and `buf[valueStart, valueEnd)` (empty value: null), valid until the next `next()`.
 *
 * Bytes come in whole chunks, each checked against its CRC before any of it is parsed. The first
 * damage found is kept (`failure`) and thrown again by every later call, so a caller that swallows
 * it (a user's reduce catching what its values iterator threw) cannot go on with wrong pairs.
 */
export class SegmentReader {
  /** Tie-break rank among merged sources, set by Merger. */
  order = 0;
  buf: Buffer;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** The damage found in the file, once found. */
  failure: TorpedoError | undefined;
  readonly #fd: number;
  readonly #path: string;
  readonly #segment: Segment;
  #mark = 0; // first byte of the current pair in buf
  #start = 0; // first unread byte in buf
  #end = 0; // end of valid (checked) bytes in buf
  #chunk = 0; // the next chunk to read
  #pairsLeft: number;
  #key: string | undefined;

  constructor(fd: number, path: string, segment: Segment, bufferBytes: number) {
    this.#fd = fd;
    this.#path = path;
    this.#segment = segment;
    this.#pairsLeft = segment.pairs;
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(Math.max(bufferBytes, CHUNK_BYTES), segment.length)));
  }

  next(): boolean {
    if (this.failure !== undefined) throw this.failure;
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
    throw this.#corrupt('has a bad length prefix');
  }

  /**
   * Makes sure `n` unread bytes are in the buffer. When it must read more, it first moves the
   * current pair's bytes (from #mark) to the front, so keyStart/keyEnd stay valid.
   */
  #fill(n: number): void {
    if (this.#end - this.#start >= n) return;
    const shift = this.#mark;
    const keep = this.#end - shift;
    if (shift > 0) this.buf.copy(this.buf, 0, shift, this.#end);
    this.#start -= shift;
    this.#mark = 0;
    this.keyStart -= shift;
    this.keyEnd -= shift;
    this.#end = keep;
    while (this.#end - this.#start < n) this.#readChunk();
  }

  /**
   * Appends the next whole chunks to the buffer (at least one, growing it if need be; as many as
   * fit, so that reads stay large), each once its CRC matches.
   */
  #readChunk(): void {
    const seg = this.#segment;
    const from = this.#chunk * CHUNK_BYTES;
    if (seg.length - from <= 0) throw this.#corrupt('has a pair that runs past the end of its segment');
    if (this.buf.length - this.#end < Math.min(CHUNK_BYTES, seg.length - from)) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#end + CHUNK_BYTES, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.#end);
      this.buf = bigger;
    }
    const room = Math.max(CHUNK_BYTES, Math.floor((this.buf.length - this.#end) / CHUNK_BYTES) * CHUNK_BYTES);
    const len = Math.min(room, seg.length - from);
    for (let got = 0; got < len; ) {
      const n = readSync(this.#fd, this.buf, this.#end + got, len - got, seg.offset + from + got);
      if (n === 0) throw this.#corrupt('ends inside a segment (cut off?)');
      got += n;
    }
    for (let at = 0; at < len; at += CHUNK_BYTES) {
      const end = Math.min(at + CHUNK_BYTES, len);
      if (crc32(this.buf.subarray(this.#end + at, this.#end + end)) !== seg.crcs[this.#chunk]) {
        throw this.#corrupt(`is damaged: checksum mismatch in bytes ${seg.offset + from + at}–${seg.offset + from + end}`);
      }
      this.#chunk++;
    }
    this.#end += len;
  }

  #corrupt(what: string): TorpedoError {
    this.failure = corruptRun(this.#path, what);
    return this.failure;
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
