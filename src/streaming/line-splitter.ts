import { TorpedoError } from '../errors.ts';

const NL = 10;

/**
 * Cuts a byte stream into lines (without `\n`) as chunks arrive, without decoding them. A line
 * split across chunks is carried over; one longer than `maxLineBytes` is an error (a process that
 * never writes a newline must not make the worker buffer forever).
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #what: string;
  #carry: Buffer | undefined;

  constructor(maxLineBytes: number, what: string) {
    this.#maxLineBytes = maxLineBytes;
    this.#what = what;
  }

  /** Calls `line(buf, start, end)` for every complete line in `chunk`. */
  push(chunk: Buffer, line: (buf: Buffer, start: number, end: number) => void): void {
    let buf = chunk;
    let pos = 0;
    if (this.#carry !== undefined) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.#carry = Buffer.concat([this.#carry, chunk]);
        this.#check(this.#carry.length);
        return;
      }
      const joined = Buffer.concat([this.#carry, chunk.subarray(0, nl)]);
      this.#carry = undefined;
      this.#check(joined.length);
      line(joined, 0, joined.length);
      pos = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(NL, pos);
      if (nl === -1) break;
      line(buf, pos, nl);
      pos = nl + 1;
    }
    if (pos < buf.length) {
      this.#check(buf.length - pos);
      this.#carry = Buffer.from(buf.subarray(pos));
    }
    buf = Buffer.alloc(0);
  }

  /** The last line, if the stream did not end with `\n`. */
  end(line: (buf: Buffer, start: number, end: number) => void): void {
    const c = this.#carry;
    this.#carry = undefined;
    if (c !== undefined && c.length > 0) line(c, 0, c.length);
  }

  #check(length: number): void {
    if (length > this.#maxLineBytes) {
      throw new TorpedoError('TORPEDO_ERR_RECORD_TOO_LARGE', `${this.#what} wrote a line longer than ${this.#maxLineBytes} bytes without a newline`);
    }
  }
}
