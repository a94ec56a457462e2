import { crc32 } from 'node:zlib';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import type { PartCompressor } from './part-compressor.ts';
import { recordFormat, type OutputFormat, type RecordFormat } from './part-format.ts';
import { encodeValue } from './run-file.ts';

/** How a part file is written: its record format and its codec (the job's `outputFormat` and `outputCompression`). */
export interface PartEncoding {
  readonly format?: OutputFormat;
  /** Made by the factory `loadPartCompressor` returns; none: the bytes are stored as they are. */
  readonly compressor?: PartCompressor;
}

const TAB = 9;
const NL = 10;
const QUOTE = 34;

/**
 * Writes a part file: one `key<TAB>value` line per pair, the value raw if it is a string, else
 * as JSON; a null or undefined value writes the key alone. With another `format` (jsonl, csv:
 * part-format.ts) each pair becomes that format's line; a streaming reducer's line is split at
 * its first tab into key and value first, as Hadoop Streaming does.
 *
 * With a `compressor`, each full buffer is compressed as it is flushed (part-compressor.ts): a
 * part is never held whole in memory, compressed or not.
 *
 * It checksums what it writes, a buffer at a time, as it goes to the file: `checksum()` is the
 * part's size and CRC-32 for the output's manifest (`_SUCCESS`), so that the job commit need not
 * read every part back (on a 1 GB sort that read was most of the commit; issue 20). The CRC then
 * covers the bytes as the reducer made them: damage between the write and the commit is caught
 * by `torpedo verify` instead of being written into the manifest. Size and CRC are of the bytes
 * stored, compressed if the part is.
 */
export class OutputWriter extends BufferedFileWriter {
  lines = 0;
  #crc = 0;
  readonly #format: RecordFormat | undefined;
  readonly #compressor: PartCompressor | undefined;

  constructor(path: string, encoding: PartEncoding = {}) {
    super(path);
    this.#format = encoding.format === undefined || encoding.format === 'text' ? undefined : recordFormat(encoding.format);
    this.#compressor = encoding.compressor;
  }

  write(key: string, value: unknown): void {
    if (this.#format !== undefined) {
      this.#writeText(this.#format.lines(key, value));
      return;
    }
    const text = typeof value === 'string' ? value : encodeValue(value);
    this.ensure(3 * (key.length + (text === null ? 0 : text.length)) + 2);
    const buf = this.buf;
    this.pos += buf.write(key, this.pos);
    if (text !== null) {
      buf[this.pos++] = TAB;
      this.pos += buf.write(text, this.pos);
    }
    buf[this.pos++] = NL;
    this.lines++;
  }

  /** Writes a pair straight from shuffle bytes: key `kb[ks, ke)`, JSON value `vb[vs, ve)` (empty: null). */
  writeRaw(kb: Uint8Array, ks: number, ke: number, vb: Buffer, vs: number, ve: number): void {
    if (this.#format !== undefined) {
      this.write(utf8(kb, ks, ke), ve > vs ? JSON.parse(vb.toString('utf8', vs, ve)) : null);
      return;
    }
    if (ve > vs && vb[vs] === QUOTE) {
      // A JSON string is written raw: decode its escapes.
      this.write(Buffer.from(kb.buffer, kb.byteOffset + ks, ke - ks).toString('utf8'), JSON.parse(vb.toString('utf8', vs, ve)));
      return;
    }
    this.ensure(ke - ks + ve - vs + 2);
    const buf = this.buf;
    buf.set(kb.subarray(ks, ke), this.pos);
    this.pos += ke - ks;
    if (ve > vs) {
      buf[this.pos++] = TAB;
      buf.set(vb.subarray(vs, ve), this.pos);
      this.pos += ve - vs;
    }
    buf[this.pos++] = NL;
    this.lines++;
  }

  /** Writes `key<TAB>text` with the key given as UTF-8 bytes `kb[ks, ke)`. */
  writeRawKey(kb: Uint8Array, ks: number, ke: number, text: string): void {
    if (this.#format !== undefined) {
      this.write(utf8(kb, ks, ke), JSON.parse(text));
      return;
    }
    this.ensure(ke - ks + 3 * text.length + 2);
    const buf = this.buf;
    buf.set(kb.subarray(ks, ke), this.pos);
    this.pos += ke - ks;
    buf[this.pos++] = TAB;
    this.pos += buf.write(text, this.pos);
    buf[this.pos++] = NL;
    this.lines++;
  }

  /** Writes `buf[start, end)` and a newline: a line of a streaming reducer's output, as it is. */
  writeLine(buf: Uint8Array, start: number, end: number): void {
    if (this.#format !== undefined) {
      const tab = buf.subarray(start, end).indexOf(TAB);
      if (tab < 0) this.write(utf8(buf, start, end), null);
      else this.write(utf8(buf, start, start + tab), utf8(buf, start + tab + 1, end));
      return;
    }
    this.ensure(end - start + 1);
    this.buf.set(buf.subarray(start, end), this.pos);
    this.pos += end - start;
    this.buf[this.pos++] = NL;
    this.lines++;
  }

  #writeText(text: string): void {
    this.ensure(3 * text.length);
    this.pos += this.buf.write(text, this.pos);
    this.lines++;
  }

  protected override flush(): void {
    if (this.#compressor === undefined) {
      this.#crc = crc32(this.buf.subarray(0, this.pos), this.#crc);
      super.flush();
      return;
    }
    if (this.pos === 0) return;
    this.#stored(this.#compressor.compress(this.buf.subarray(0, this.pos)));
    this.pos = 0;
  }

  /** Writes bytes as stored (compressed), and checksums them. */
  #stored(bytes: Uint8Array): void {
    // Nothing to store (a codec's end with nothing left): zlib.crc32 of no bytes was seen to
    // answer 0 here rather than the CRC so far, which named outputs' manifests then carried.
    if (bytes.length === 0) return;
    this.#crc = crc32(bytes, this.#crc);
    this.writeOut(bytes);
  }

  close(): void {
    if (this.#compressor !== undefined) {
      this.flush();
      this.#stored(this.#compressor.end());
    }
    this.finish();
  }

  /** The size and CRC-32 of the part written. Call after `close`. */
  checksum(): PartChecksum {
    return { bytes: this.written, crc32: this.#crc.toString(16).padStart(8, '0') };
  }
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
}
