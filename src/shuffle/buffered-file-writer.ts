import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A file written through one reusable buffer: subclasses put bytes in `buf` at `pos` after
 * `ensure(n)`. The fields are plain (not #private) so that the subclasses' hot loops stay fast.
 */
export class BufferedFileWriter {
  protected buf: Buffer;
  protected pos = 0;
  /** Bytes already flushed to the file. */
  protected written = 0;
  readonly #fd: number;

  /** Creates `path`, which must not exist. */
  constructor(path: string, bufferBytes = 1 << 20) {
    this.#fd = openSync(path, 'wx');
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Makes room for `n` more bytes in the buffer. */
  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  protected flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.#fd, this.buf, off, this.pos - off);
    this.written += this.pos;
    this.pos = 0;
  }

  /** Flushes, then writes `tail` (if any) and closes the file. */
  protected finish(...tail: Buffer[]): void {
    this.flush();
    for (const t of tail) writeSync(this.#fd, t);
    closeSync(this.#fd);
  }
}
