import { storageFor } from '../storage/storage-uri.ts';
import type { Storage } from '../storage/storage.ts';

/** Bytes fetched per ranged GET: few requests for a split, and the next range fetched while this one is read. */
const WINDOW_BYTES = 8 << 20;
/** Past the split's end only the end of its last line (or bzip2 block) is read: smaller ranges, none ahead. */
const TAIL_BYTES = 1 << 20;

/**
 * An object of an input in an object store, read as the readers of splits read a local file
 * (`read(buffer, offset, length, position)`): ranged GETs of 8 MiB, the next one fetched while
 * the last is consumed, each pinned to the ETag the job was planned with (a changed object is
 * TORPEDO_ERR_INPUT_CHANGED, never other bytes). A connection that drops mid-range is resumed by
 * the storage (Storage.read).
 */
export class ObjectSource {
  readonly #storage: Storage;
  readonly #key: string;
  readonly #size: number;
  readonly #etag: string | undefined;
  readonly #splitEnd: number;
  #window: { start: number; bytes: Buffer } | undefined;
  #ahead: { start: number; bytes: Promise<Buffer> } | undefined;

  /** `splitEnd`: where the split's own bytes end; ranges stop there, and after it are small. */
  constructor(uri: string, size: number, etag: string | undefined, splitEnd = size) {
    const { storage, key } = storageFor(uri);
    this.#storage = storage;
    this.#key = key;
    this.#size = size;
    this.#etag = etag;
    this.#splitEnd = Math.min(size, splitEnd);
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (length <= 0 || position >= this.#size) return { bytesRead: 0 };
    let w = this.#window;
    if (w === undefined || position < w.start || position >= w.start + w.bytes.length) {
      const ahead = this.#ahead;
      this.#ahead = undefined;
      const bytes = ahead !== undefined && ahead.start === position ? await ahead.bytes : await this.#fetch(position);
      w = this.#window = { start: position, bytes };
      const next = position + bytes.length;
      if (next < this.#splitEnd && bytes.length > 0) this.#ahead = { start: next, bytes: quiet(this.#fetch(next)) };
    }
    const from = position - w.start;
    const n = Math.min(length, w.bytes.length - from);
    w.bytes.copy(buffer, offset, from, from + n);
    return { bytesRead: n };
  }

  async stat(): Promise<{ size: number }> {
    return { size: this.#size };
  }

  async close(): Promise<void> {
    this.#window = undefined;
    this.#ahead = undefined;
  }

  #fetch(start: number): Promise<Buffer> {
    const end = start < this.#splitEnd ? Math.min(this.#splitEnd, start + WINDOW_BYTES) : Math.min(this.#size, start + TAIL_BYTES);
    return this.#storage.readRange(this.#key, { start, end, ...(this.#etag !== undefined ? { ifMatch: this.#etag } : {}) });
  }
}

/** A fetch begun ahead: its failure is seen when it is awaited, not as an unhandled rejection before. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}
