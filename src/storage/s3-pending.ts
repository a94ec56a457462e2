/**
 * Pending writes on S3: a multipart upload whose parts are uploaded here and completed by
 * someone else (`S3Storage.completePending`), so nothing is visible under the key until then.
 * Parts are cut at `partSize` (S3's minimum is 5 MiB, except the last) and sent one at a time:
 * each `write` that fills a part waits for its upload, which is the writer's backpressure.
 */
import type { Sdk } from './s3-sdk.ts';
import type { StorageError } from './storage-errors.ts';
import type { PendingWrite, PendingWriter } from './storage.ts';

export class S3PendingWriter implements PendingWriter {
  readonly #sdk: Promise<Sdk>;
  readonly #bucket: string;
  readonly #key: string;
  readonly #partSize: number;
  readonly #mapError: (e: unknown) => StorageError;
  #uploadId: Promise<string> | undefined;
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  readonly #parts: { n: number; etag: string; bytes: number }[] = [];
  #state: 'open' | 'closed' | 'aborted' = 'open';

  constructor(sdk: Promise<Sdk>, bucket: string, key: string, partSize: number, mapError: (e: unknown) => StorageError) {
    this.#sdk = sdk;
    this.#bucket = bucket;
    this.#key = key;
    this.#partSize = partSize;
    this.#mapError = mapError;
  }

  #upload(): Promise<string> {
    this.#uploadId ??= this.#sdk.then(async ({ s3, client }) => {
      const res = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key }));
      if (res.UploadId === undefined) throw new Error('CreateMultipartUpload answered no UploadId');
      return res.UploadId;
    });
    return this.#uploadId;
  }

  async #sendPart(body: Buffer): Promise<void> {
    const uploadId = await this.#upload();
    const { s3, client } = await this.#sdk;
    const n = this.#parts.length + 1;
    const res = await client.send(new s3.UploadPartCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length }));
    if (res.ETag === undefined) throw new Error(`UploadPart ${n} answered no ETag`);
    this.#parts.push({ n, etag: res.ETag, bytes: body.length });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw new Error(`write of ${this.#key} after it was closed or aborted`);
    this.#buffered.push(Buffer.from(chunk));
    this.#bufferedBytes += chunk.length;
    try {
      while (this.#bufferedBytes >= this.#partSize) {
        const all = Buffer.concat(this.#buffered);
        this.#buffered = [all.subarray(this.#partSize)];
        this.#bufferedBytes = all.length - this.#partSize;
        await this.#sendPart(all.subarray(0, this.#partSize));
      }
    } catch (e) {
      await this.abort();
      throw this.#mapError(e);
    }
  }

  async close(): Promise<PendingWrite> {
    if (this.#state !== 'open') throw new Error(`close of ${this.#key} after it was closed or aborted`);
    try {
      // The last part may be small, and is sent even when empty: an upload needs one part.
      if (this.#bufferedBytes > 0 || this.#parts.length === 0) await this.#sendPart(Buffer.concat(this.#buffered));
      this.#state = 'closed';
      return { key: this.#key, uploadId: await this.#upload(), parts: [...this.#parts], bytes: this.#parts.reduce((sum, p) => sum + p.bytes, 0) };
    } catch (e) {
      await this.abort();
      throw this.#mapError(e);
    }
  }

  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#buffered = [];
    const uploadId = await this.#uploadId?.catch(() => undefined);
    if (uploadId === undefined) return;
    const { s3, client } = await this.#sdk;
    await client.send(new s3.AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: this.#key, UploadId: uploadId })).catch(() => {});
  }
}
