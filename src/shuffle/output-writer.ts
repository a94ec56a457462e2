import { BufferedFileWriter } from './buffered-file-writer.ts';
import { encodeValue } from './run-file.ts';

const TAB = 9;
const NL = 10;
const QUOTE = 34;

/**
 * Writes a part file: one `key<TAB>value` line per pair, the value raw if it is a string, else
 * as JSON; a null or undefined value writes the key alone.
 */
export class OutputWriter extends BufferedFileWriter {
  lines = 0;

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

  close(): void {
    this.finish();
  }
}
