import { closeSync, openSync, writeSync } from 'node:fs';
import { isNoSpace, noSpaceError } from '../errors.ts';

/**
 * A file written through one reusable buffer: subclasses put bytes in `buf` at `pos` after
 * `ensure(n)`. The fields are plain (not #private) so that the subclasses' hot loops stay fast.
 *
 * Every file a worker writes goes through here (map outputs and spills: run-file.ts; part files:
 * output-writer.ts). A failed write closes the file at once, so that removing it (the worker does,
 * when the attempt fails) gives its space back, and a full storage is TORPEDO_ERR_NO_SPACE naming
 * the file: write(2)'s ENOSPC names none. Later calls throw the same error again.
 */
export class BufferedFileWriter {
  protected buf: Buffer;
  protected pos = 0;
  /** Bytes already flushed to the file. */
  protected written = 0;
  readonly #path: string;
  /** The open file; undefined once closed, by `finish` or by a failure. */
  #fd: number | undefined;
  /** Why the file was closed before `finish`, rethrown by any later write. */
  #failure: unknown;

  /** Creates `path`, which must not exist. */
  constructor(path: string, bufferBytes = 1 << 20) {
    this.#path = path;
    try {
      this.#fd = openSync(path, 'wx');
    } catch (e) {
      throw this.#explained(e);
    }
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Makes room for `n` more bytes in the buffer. */
  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  protected flush(): void {
    this.writeOut(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  /** Writes `bytes` to the file now (past the buffer: a compressed buffer's bytes, for one). */
  protected writeOut(bytes: Uint8Array): void {
    const fd = this.#open();
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw this.#fail(e);
    }
    this.written += bytes.length;
  }

  /** Flushes, then writes `tail` (if any) and closes the file. */
  protected finish(...tail: Buffer[]): void {
    this.flush();
    const fd = this.#open();
    try {
      for (const t of tail) writeSync(fd, t);
    } catch (e) {
      throw this.#fail(e);
    }
    this.#fd = undefined;
    try {
      closeSync(fd);
    } catch (e) {
      // Some network file systems report a full disk only at close.
      throw (this.#failure = this.#explained(e));
    }
  }

  /** The open file, or the failure that closed it. */
  #open(): number {
    if (this.#fd === undefined) throw this.#failure ?? new Error(`${this.#path} is closed`);
    return this.#fd;
  }

  /** A write failed: closes the file and keeps the error for later calls. */
  #fail(e: unknown): unknown {
    const fd = this.#fd;
    this.#fd = undefined;
    this.#failure = this.#explained(e);
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // the write's error is the one to report
      }
    }
    return this.#failure;
  }

  /** A full storage's error, naming this file; any other as it is. */
  #explained(e: unknown): unknown {
    return isNoSpace(e) ? noSpaceError(e, 'writing', this.#path) : e;
  }
}
