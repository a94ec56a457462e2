/**
 * The Storage seam on an S3-compatible bucket (AWS S3, MinIO, Ceph's radosgw, R2): ranged GETs
 * that resume where a dropped connection left them, streamed writes as multipart uploads
 * (@aws-sdk/lib-storage), and createIfAbsent as a conditional PutObject (`If-None-Match: *`)
 * where the server keeps it. Transient failures (throttling, 5xx, dropped connections) are
 * retried by the SDK's standard retry strategy, bounded by `maxAttempts`; what still fails is a
 * StorageError naming the URI (s3-errors.ts), never the credentials.
 */
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromS3Error, isMissing, isPreconditionFailed, s3Attempts, s3Code, s3Status, type S3ErrorContext } from './s3-errors.ts';
import { changed, StorageError } from './storage-errors.ts';
import { checkKey, checkRange, gathered, type CreateIfAbsentMode, type ListOptions, type ListPage, type ObjectWriter, type PendingWrite, type PendingWriter, type ReadOptions, type Storage, type StorageEntry, type StorageStat, type Tail, type WriteResult } from './storage.ts';
import type { S3StorageOptions } from './s3-options.ts';
import { loadSdk, type Sdk } from './s3-sdk.ts';
import { S3PendingWriter } from './s3-pending.ts';
import { S3Writer } from './s3-writer.ts';

const DEFAULT_PAGE = 1000;

const DEFAULT_PART = 8 * 1024 * 1024;

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly bucket: string;
  /** The SDK and the client, loaded at the first request: a process that never uses S3 (most workers) does not pay for loading the SDK (≈80 ms, 20 MB). */
  #ready: Promise<Sdk> | undefined;
  readonly #o: S3StorageOptions;
  readonly #attempts: number;
  #mode: Promise<CreateIfAbsentMode> | undefined;

  constructor(o: S3StorageOptions) {
    this.bucket = o.bucket;
    this.#o = o;
    this.#attempts = o.maxAttempts ?? 5;
  }

  #sdk(): Promise<Sdk> {
    this.#ready ??= loadSdk(this.#o, this.#attempts);
    return this.#ready;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** Stops the client's sockets (for tests and a manager's shutdown). */
  destroy(): void {
    void this.#ready?.then((x) => x.client.destroy());
  }

  /**
   * Pages by `StartAfter` = the last key seen rather than by continuation token: the same
   * listing, and it works on servers whose tokens do not (s3rver's need a cipher Node 20 lacks).
   */
  async *list(prefix: string, o: ListOptions = {}): AsyncIterable<StorageEntry> {
    checkKey(prefix, 'prefix');
    let left = o.limit ?? Infinity;
    let after = o.after;
    while (left > 0) {
      const page = await this.listPage(prefix, { limit: Math.min(left, this.#pageSize()), ...(after !== undefined ? { after } : {}) });
      for (const e of page.entries) yield e;
      left -= page.entries.length;
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  async listPage(prefix: string, o: ListOptions = {}): Promise<ListPage> {
    checkKey(prefix, 'prefix');
    const res = await this.#send(this.uri(prefix), 'listing', (sdk, client) => client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: o.limit ?? this.#pageSize(), ...(o.after !== undefined ? { StartAfter: o.after } : {}) })),
    );
    const entries = (res.Contents ?? []).map((c) => entryOf(c.Key ?? '', c.Size, c.LastModified, c.ETag));
    const last = entries[entries.length - 1];
    return res.IsTruncated === true && last !== undefined ? { entries, next: last.key } : { entries };
  }

  async stat(key: string, ifMatch?: string): Promise<StorageStat> {
    checkKey(key);
    const res = await this.#send(this.uri(key), 'reading', (sdk, client) => client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key, ...(ifMatch !== undefined ? { IfMatch: ifMatch } : {}) })));
    return entryOf(key, res.ContentLength, res.LastModified, res.ETag);
  }

  read(key: string, o: ReadOptions = {}): Readable {
    checkKey(key);
    const start = o.start ?? 0;
    checkRange(start, o.end);
    return Readable.from(this.#bytes(key, start, o.end, o.ifMatch), { objectMode: false });
  }

  /**
   * The bytes [start, end) of `key`, one ranged GET after another (a whole object with no Range:
   * `bytes=0-` of an empty object is a 416 or worse on some servers): the first GET's ETag pins the
   * version, and a body that breaks off (an error, or fewer bytes than its range) is asked for
   * again from the next byte with `If-Match`, up to `readResumes` times in a row without
   * progress. A 412 is a changed object; a 416 (start at or past the size) is no bytes.
   */
  async *#bytes(key: string, start: number, end: number | undefined, ifMatch: string | undefined): AsyncGenerator<Buffer> {
    const uri = this.uri(key);
    if (end === start) {
      const st = await this.stat(key, ifMatch);
      if (ifMatch !== undefined && st.etag !== ifMatch) throw changed(uri, `its ETag is ${st.etag}, not ${ifMatch}`);
      return;
    }
    let etag = ifMatch;
    let at = start;
    let stop = end;
    let failures = 0;
    for (;;) {
      let res: GetObjectCommandOutput;
      try {
        res = await this.#send(uri, 'reading', (sdk, client) => client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ...(at > 0 || stop !== undefined ? { Range: `bytes=${at}-${stop !== undefined ? stop - 1 : ''}` } : {}), ...(etag !== undefined ? { IfMatch: etag } : {}) })), { rangeNotSatisfiable: true });
      } catch (e) {
        if (e === RANGE_NOT_SATISFIABLE) return;
        throw e;
      }
      // A server that ignores If-Match (s3rver) still says which version it sent.
      if (etag !== undefined && res.ETag !== undefined && res.ETag !== etag) {
        (res.Body as Readable | undefined)?.destroy();
        throw changed(uri, `its ETag is ${res.ETag}, not ${etag}`);
      }
      etag ??= res.ETag;
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.ContentRange ?? '');
      if (range === null ? at > 0 : Number(range[1]) !== at) {
        (res.Body as Readable | undefined)?.destroy();
        throw new StorageError('unavailable', uri, `${uri}: the S3 server answered a read from byte ${at} with other bytes (Content-Range ${JSON.stringify(res.ContentRange ?? null)}); it does not keep ranged reads`);
      }
      const total = range !== null && range[3] !== '*' ? Number(range[3]) : at + (res.ContentLength ?? 0);
      stop = Math.min(stop ?? total, total);
      const before = at;
      try {
        for await (const chunk of res.Body as Readable) {
          // Never past the range asked for, whatever the server sends (s3rver answers bytes=0-0 whole).
          const bytes = (chunk as Buffer).subarray(0, stop - at);
          at += bytes.length;
          if (bytes.length > 0) yield bytes;
          if (at >= stop) break;
        }
      } catch {
        // A dropped connection: asked for again below, from `at`.
      }
      if (at >= stop) return;
      failures = at > before ? 1 : failures + 1;
      const resumes = this.#o.readResumes ?? 5;
      if (failures > resumes) {
        throw new StorageError('connection', uri, `the connection to the S3 endpoint ${this.#endpoint()} dropped ${resumes + 1} times in a row reading ${uri} at byte ${at}, with no progress`);
      }
      await sleep(Math.min(2000, 50 * 2 ** failures));
    }
  }

  async readRange(key: string, o: ReadOptions = {}): Promise<Buffer> {
    return await gathered(this.read(key, o));
  }

  async readTail(key: string, bytes: number): Promise<Tail> {
    checkKey(key);
    checkRange(0, bytes);
    const uri = this.uri(key);
    if (bytes === 0) {
      const st = await this.stat(key);
      return { bytes: Buffer.alloc(0), size: st.size, etag: st.etag };
    }
    let res: GetObjectCommandOutput;
    try {
      res = await this.#send(uri, 'reading', (sdk, client) => client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=-${bytes}` })), { rangeNotSatisfiable: true });
    } catch (e) {
      if (e !== RANGE_NOT_SATISFIABLE) throw e;
      const st = await this.stat(key); // an empty object has no last bytes to range over
      return { bytes: Buffer.alloc(0), size: st.size, etag: st.etag };
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.ContentRange ?? '');
    const etag = res.ETag ?? '';
    const chunks: Buffer[] = [];
    try {
      for await (const c of res.Body as Readable) chunks.push(c as Buffer);
    } catch {
      // A dropped connection: asked for again below, as a resumable read of that version.
    }
    const all = Buffer.concat(chunks);
    const size = range !== null ? Number(range[3]) : undefined;
    // Whole, and really the end of the object (s3rver answers a suffix range with its first bytes).
    if (range !== null && size !== undefined && Number(range[2]) === size - 1 && Number(range[1]) === size - all.length && all.length === Math.min(bytes, size)) return { bytes: all, size, etag };
    const st = await this.stat(key);
    return { bytes: await this.readRange(key, { start: Math.max(0, st.size - bytes), ifMatch: st.etag }), size: st.size, etag: st.etag };
  }

  write(key: string): ObjectWriter {
    checkKey(key);
    return new S3Writer(this.#sdk(), this.bucket, key, this.#o.partSize ?? DEFAULT_PART, (e) => this.#error(e, this.uri(key), 'writing'));
  }

  writePending(key: string): PendingWriter {
    checkKey(key);
    return new S3PendingWriter(this.#sdk(), this.bucket, key, this.#o.partSize ?? DEFAULT_PART, (e) => this.#error(e, this.uri(key), 'writing'));
  }

  /** CompleteMultipartUpload; a `NoSuchUpload` is a completion already done if the object has the upload's size. */
  async completePending(p: PendingWrite): Promise<WriteResult> {
    checkKey(p.key);
    const uri = this.uri(p.key);
    try {
      const res = await this.#send(uri, 'publishing', (sdk, client) => client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: p.key, UploadId: p.uploadId, MultipartUpload: { Parts: p.parts.map((x) => ({ PartNumber: x.n, ETag: x.etag })) } })), { raw: true });
      return { key: p.key, size: p.bytes, etag: res.ETag ?? '' };
    } catch (e) {
      // An upload completed already (a retry, a resumed commit) is gone: S3 says NoSuchUpload,
      // radosgw and s3rver a 500. The object there tells whether it was this one.
      const failure = this.#error(e, uri, 'publishing');
      if (failure.reason !== 'not-found' && failure.reason !== 'unavailable') throw failure;
      const st = await this.stat(p.key).catch(() => undefined);
      if (st !== undefined && st.size === p.bytes && sameUpload(st.etag, p)) return { key: p.key, size: st.size, etag: st.etag };
      const gone = await this.#send(uri, 'publishing', (sdk, client) => client.send(new sdk.ListPartsCommand({ Bucket: this.bucket, Key: p.key, UploadId: p.uploadId, MaxParts: 1 })), { raw: true }).then(
        () => false,
        (l: unknown) => s3Code(l) === 'NoSuchUpload' || s3Status(l) === 404,
      );
      if (gone || s3Code(e) === 'NoSuchUpload') throw new StorageError('not-found', uri, `${uri}: no such pending write (upload ${p.uploadId}: aborted, or completed and replaced since)`);
      throw failure;
    }
  }

  async abortPending(p: Pick<PendingWrite, 'key' | 'uploadId'>): Promise<void> {
    checkKey(p.key);
    try {
      await this.#send(this.uri(p.key), 'aborting', (sdk, client) => client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: p.key, UploadId: p.uploadId })), { raw: true });
    } catch (e) {
      if (s3Code(e) !== 'NoSuchUpload') throw this.#error(e, this.uri(p.key), 'aborting');
    }
  }

  async *listPending(prefix: string): AsyncIterable<Pick<PendingWrite, 'key' | 'uploadId'>> {
    checkKey(prefix, 'prefix');
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const res = await this.#send(this.uri(prefix), 'listing uploads under', (sdk, client) => client.send(new sdk.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, MaxUploads: this.#pageSize(), ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}), ...(idMarker !== undefined ? { UploadIdMarker: idMarker } : {}) })));
      for (const u of res.Uploads ?? []) if (u.Key !== undefined && u.UploadId !== undefined) yield { key: u.Key, uploadId: u.UploadId };
      if (res.IsTruncated !== true) return;
      keyMarker = res.NextKeyMarker;
      idMarker = res.NextUploadIdMarker;
    }
  }

  async createIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    checkKey(key);
    const uri = this.uri(key);
    if ((await this.createIfAbsentMode()) === 'check-then-write') {
      try {
        await this.stat(key);
        return false;
      } catch (e) {
        if (!(e instanceof StorageError) || e.reason !== 'not-found') throw e;
      }
      await this.#send(uri, 'creating', (sdk, client) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes })));
      return true;
    }
    // 409 ConditionalRequestConflict: another conditional write of the key is in flight (AWS);
    // asked again until one of them has won.
    for (let i = 0; ; i++) {
      try {
        await this.#send(uri, 'creating', (sdk, client) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, IfNoneMatch: '*' })), { raw: true });
        return true;
      } catch (e) {
        // A 412 after the SDK retried may answer our own first attempt, stored but its reply
        // lost: the object is ours if it holds exactly our bytes (callers make them unique).
        if (isPreconditionFailed(e)) return s3Attempts(e) > 1 ? await this.#holds(key, bytes) : false;
        if (s3Status(e) === 409 && i < 10) {
          await sleep(20 * 2 ** Math.min(i, 5));
          continue;
        }
        throw this.#error(e, uri, 'creating');
      }
    }
  }

  async #holds(key: string, bytes: Uint8Array): Promise<boolean> {
    const there = await this.readRange(key).catch(() => undefined);
    return there !== undefined && Buffer.compare(there, bytes) === 0;
  }

  /**
   * `TORPEDO_S3_CONDITIONAL_WRITES` (`on`, `off`) or, by default, found out once per bucket: a
   * probe object under `_torpedo-probe/` created twice with `If-None-Match: *`. A server that
   * keeps it refuses the second (412); one that ignores the header (s3rver, older Ceph) stores
   * both; one that rejects it (501, 400) does not support it.
   */
  createIfAbsentMode(): Promise<CreateIfAbsentMode> {
    const configured = this.#o.conditionalWrites ?? 'auto';
    if (configured !== 'auto') return Promise.resolve(configured === 'on' ? 'atomic' : 'check-then-write');
    this.#mode ??= this.#probe().catch((e: unknown) => {
      this.#mode = undefined;
      throw e;
    });
    return this.#mode;
  }

  async #probe(): Promise<CreateIfAbsentMode> {
    const key = `_torpedo-probe/${randomBytes(8).toString('hex')}`;
    const put = (): Promise<unknown> => this.#send(this.uri(key), 'probing conditional writes on', (sdk, client) => client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: 'probe', IfNoneMatch: '*' })), { raw: true });
    try {
      await put();
      try {
        await put();
        return 'check-then-write';
      } catch (e) {
        if (isPreconditionFailed(e)) return 'atomic';
        if (s3Status(e) === 501 || s3Status(e) === 400) return 'check-then-write';
        throw this.#error(e, this.uri(key), 'probing conditional writes on');
      }
    } catch (e) {
      if (s3Status(e) === 501 || (s3Status(e) === 400 && s3Code(e) !== 'InvalidBucketName')) return 'check-then-write';
      throw e instanceof StorageError ? e : this.#error(e, this.uri(key), 'probing conditional writes on');
    } finally {
      await this.delete(key).catch(() => {});
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.#send(this.uri(key), 'deleting', (sdk, client) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
    } catch (e) {
      if (!(e instanceof StorageError && e.reason === 'not-found')) throw e;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkKey(prefix, 'prefix');
    if (prefix === '') throw new TypeError('deletePrefix of the whole storage is refused: name a prefix');
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      const keys = batch;
      batch = [];
      if (keys.length === 0) return;
      const res = await this.#send(this.uri(prefix), 'deleting', (sdk, client) => client.send(new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } })));
      const failed = (res.Errors ?? []).filter((x) => x.Code !== 'NoSuchKey');
      if (failed.length > 0) throw fromS3Error({ Code: failed[0]?.Code }, this.#context(this.uri(failed[0]?.Key ?? prefix), 'deleting'));
    };
    // Deleting while listing is safe: a listing goes on after the last key it gave.
    for await (const e of this.list(prefix)) {
      batch.push(e.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  #pageSize(): number {
    return this.#o.pageSize ?? DEFAULT_PAGE;
  }

  #endpoint(): string {
    const e = this.#o.endpoint;
    if (e === undefined) return 'of AWS';
    try {
      const u = new URL(e);
      return `${u.protocol}//${u.host}`;
    } catch {
      return '(malformed endpoint)';
    }
  }

  #context(uri: string, doing: string): S3ErrorContext {
    const c = this.#o.credentials;
    const secrets = [c?.accessKeyId, c?.secretAccessKey, c?.sessionToken, ...(this.#o.secrets ?? [])].filter((s): s is string => s !== undefined);
    return { uri, doing, endpoint: this.#endpoint(), attempts: this.#attempts, secrets };
  }

  #error(e: unknown, uri: string, doing: string): StorageError {
    return fromS3Error(e, this.#context(uri, doing));
  }

  /**
   * Sends one command (the SDK retries it), mapping failures: a 404 is 'no-bucket' if the bucket
   * is missing (a HEAD's 404 does not say which), else 'not-found'. `raw`: the SDK's error as it
   * is, for callers that branch on its status. `rangeNotSatisfiable`: a 416 is RANGE_NOT_SATISFIABLE.
   */
  async #send<T>(uri: string, doing: string, request: (sdk: Sdk['s3'], client: S3Client) => Promise<T>, o: { raw?: boolean; rangeNotSatisfiable?: boolean } = {}): Promise<T> {
    try {
      const { s3, client } = await this.#sdk();
      return await request(s3, client);
    } catch (e) {
      if (o.rangeNotSatisfiable === true && (s3Status(e) === 416 || s3Code(e) === 'InvalidRange')) throw RANGE_NOT_SATISFIABLE;
      if (o.raw === true) throw e;
      if (isMissing(e) && s3Code(e) !== 'NoSuchBucket' && !(await this.#bucketExists())) throw this.#error({ Code: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }, uri, doing);
      throw this.#error(e, uri, doing);
    }
  }

  async #bucketExists(): Promise<boolean> {
    try {
      const { s3, client } = await this.#sdk();
      await client.send(new s3.HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch (e) {
      return !isMissing(e);
    }
  }
}

const RANGE_NOT_SATISFIABLE = Symbol('range not satisfiable');

/**
 * Whether an object's ETag is the one completing `p` gives: S3 (and radosgw, MinIO) make a
 * multipart object's ETag the MD5 of its parts' MD5s, then `-` and the number of parts. Parts
 * whose ETags are not MD5s (SSE-KMS) leave only the size to go by.
 */
function sameUpload(etag: string, p: PendingWrite): boolean {
  const md5s = p.parts.map((x) => x.etag.replace(/"/g, ''));
  if (!md5s.every((m) => /^[0-9a-f]{32}$/i.test(m))) return true;
  const whole = createHash('md5').update(Buffer.concat(md5s.map((m) => Buffer.from(m, 'hex')))).digest('hex');
  return etag.replace(/"/g, '') === `${whole}-${p.parts.length}`;
}

function entryOf(key: string, size: number | undefined, modified: Date | undefined, etag: string | undefined): StorageEntry {
  return { key, size: size ?? 0, mtimeMs: modified?.getTime() ?? 0, etag: etag ?? '' };
}
