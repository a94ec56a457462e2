import { crc32 } from 'node:zlib';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { BufferedFileWriter } from './buffered-file-writer.ts';
import { encodeValue } from './run-file.ts';

const TAB = 9;
const NL = 10;
const QUOTE = 34;

/**
 * Writes a part file: one `key<TAB>value` line per pair, the value raw if it is a string, else
 * as JSON; a null or undefined value writes the key alone.
 *
 * It checksums what it writes, a buffer at a time, as it goes to the file: `checksum()` is the
 * part's size and CRC-32 for the output's manifest (`_SUCCESS`), so that the job commit need not
 * read every part back (on a 1 GB sort that read was most of the commit; issue 20). The CRC then
 * covers the bytes as the reducer made them: damage between the write and the commit is caught
 * by `torpedo verify` instead of being written into the manifest.
 */
export class OutputWriter extends BufferedFileWriter {
  lines = 0;
  #crc = 0;

  write(key: string, value: unknown): void {
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
    this.ensure(end - start + 1);
    this.buf.set(buf.subarray(start, end), this.pos);
    this.pos += end - start;
    this.buf[this.pos++] = NL;
    this.lines++;
  }

  protected override flush(): void {
    this.#crc = crc32(this.buf.subarray(0, this.pos), this.#crc);
    super.flush();
  }

  close(): void {
    this.finish();
  }

  /** The size and CRC-32 of the part written. Call after `close`. */
  checksum(): PartChecksum {
    return { bytes: this.written, crc32: this.#crc.toString(16).padStart(8, '0') };
  }
}
