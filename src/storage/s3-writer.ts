import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Sdk } from './s3-sdk.ts';
import type { StorageError } from './storage-errors.ts';
import type { ObjectWriter, WriteResult } from './storage.ts';

/**
 * A multipart upload fed through a PassThrough: lib-storage cuts it into parts of `partSize`
 * (one PutObject when it is smaller), and completes it only once the stream has ended, so the
 * object appears whole or not at all. Aborting destroys the stream, and lib-storage then aborts
 * the multipart upload; `abort()` waits for that, so no parts are left behind.
 */
export class S3Writer implements ObjectWriter {
  readonly #key: string;
  readonly #body = new PassThrough({ highWaterMark: 1024 * 1024 });
  readonly #done: Promise<{ ETag?: string }>;
  readonly #mapError: (e: unknown) => StorageError;
  #size = 0;
  #state: 'open' | 'closing' | 'closed' | 'aborted' = 'open';

  constructor(sdk: Promise<Sdk>, bucket: string, key: string, partSize: number, mapError: (e: unknown) => StorageError) {
    this.#key = key;
    this.#mapError = mapError;
    // The stream's errors (an abort, a failed upload) reach callers through #done; without a
    // listener, one raised before lib-storage reads the stream would crash the process.
    this.#body.on('error', () => {});
    this.#done = sdk.then(({ client, Upload }) => new Upload({ client, params: { Bucket: bucket, Key: key, Body: this.#body }, partSize, queueSize: 2, leavePartsOnError: false }).done());
    // Seen here so that a failure before anyone awaits it is not unhandled; `write` sees it through the stream.
    this.#done.catch((e: unknown) => this.#body.destroy(e instanceof Error ? e : new Error(String(e))));
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw new Error(`write of ${this.#key} after it was closed or aborted`);
    this.#size += chunk.length;
    try {
      if (!this.#body.write(chunk)) await once(this.#body, 'drain');
    } catch (e) {
      const failure = await this.#done.then(() => e, (d: unknown) => d);
      await this.abort();
      throw this.#mapError(failure);
    }
  }

  async close(): Promise<WriteResult> {
    if (this.#state !== 'open') throw new Error(`close of ${this.#key} after it was closed or aborted`);
    this.#state = 'closing';
    this.#body.end();
    try {
      const res = await this.#done;
      this.#state = 'closed';
      return { key: this.#key, size: this.#size, etag: res.ETag ?? '' };
    } catch (e) {
      this.#state = 'aborted';
      throw this.#mapError(e);
    }
  }

  async abort(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#body.destroy(new Error('write aborted'));
    await this.#done.catch(() => {});
  }
}

