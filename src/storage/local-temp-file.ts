import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fromLocalError } from './storage-errors.ts';

/**
 * The hidden temporary file beside `path` that a local write (LocalWriter) or pending write
 * (LocalPendingWriter) fills in order, until it is renamed over `path` or dropped. Opened at the
 * first write (`wx`: never another's file), its directories made as needed.
 */
export class TempFile {
  size = 0;
  /** Sealed or aborted: no more writes. */
  done = false;
  #fh: Promise<FileHandle> | undefined;

  constructor(
    readonly path: string,
    readonly tmp: string,
  ) {}

  #file(): Promise<FileHandle> {
    this.#fh ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.tmp, 'wx', 0o644));
    return this.#fh;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error(`write of ${this.path} after it was closed or aborted`);
    try {
      const fh = await this.#file();
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      this.size += chunk.length;
    } catch (e) {
      await this.abort();
      throw fromLocalError(e, this.path, 'writing');
    }
  }

  /** Closes the file, every byte written, for its publishing; returns its inode (a rename keeps it). */
  async seal(): Promise<bigint> {
    if (this.done) throw new Error(`close of ${this.path} after it was closed or aborted`);
    const fh = await this.#file();
    const { ino } = await fh.stat({ bigint: true });
    await fh.close();
    this.done = true;
    return ino;
  }

  /** Drops the file; idempotent. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.discard();
  }

  /** Removes the file whatever its state (a publishing that failed after `seal`). */
  async discard(): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) return;
    await fh.then((f) => f.close()).catch(() => {});
    await unlink(this.tmp).catch(() => {});
  }
}
