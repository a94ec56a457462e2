/**
 * The storage seam: one namespace of objects (a local directory, an S3 bucket) that the engine and
 * the manager read and write through, whatever is under it. docs/storage.md is the contract of
 * every method in full (preconditions, postconditions, atomicity, consistency, failures); the doc
 * comments here carry the essentials. test/storage-conformance.test.ts holds every implementation
 * to it.
 *
 * Keys are `/`-separated paths relative to the storage's root, with no leading `/`, no empty,
 * `.` or `..` segment and no NUL (`checkKey`). A prefix is `''` (everything) or a key ending in
 * `/` (a "directory"). `storageFor(uri)` (storage-uri.ts) turns what a user typed into a storage
 * and a key in it.
 *
 * ```ts
 * const { storage, key } = storageFor('s3://logs/2026/');
 * for await (const e of storage.list(key)) if (!isHiddenKey(e.key, key)) console.log(e.key, e.size);
 * ```
 */
import type { Readable } from 'node:stream';

/** An object as listed: its key, size and version. */
export interface StorageEntry {
  /** The whole key in this storage (the prefix included). */
  readonly key: string;
  readonly size: number;
  /** Last modification, ms since the epoch (S3: LastModified, second precision on some servers). */
  readonly mtimeMs: number;
  /**
   * A token that changes whenever the object's bytes may have: S3's ETag (quotes included),
   * locally size, mtime in ns and inode. Pass it to `read` as `ifMatch` to refuse a changed object.
   */
  readonly etag: string;
}

/** What `stat` says of an object: the same fields as a listing. */
export type StorageStat = StorageEntry;

export interface ListOptions {
  /** List only keys after this one (byte order of UTF-8), e.g. the last key of a page already seen. */
  readonly after?: string;
  /** Stop after this many entries. */
  readonly limit?: number;
}

export interface ListPage {
  readonly entries: readonly StorageEntry[];
  /** The `after` of the next page, or undefined when this was the last one. */
  readonly next?: string;
}

export interface ReadOptions {
  /** The first byte, default 0. */
  readonly start?: number;
  /** One past the last byte, default the object's end; clamped to its size. */
  readonly end?: number;
  /** Refuse the read (a StorageError 'changed') unless the object's etag is this one. */
  readonly ifMatch?: string;
}

/** What `readTail` gives: the bytes, and what they are the end of. */
export interface Tail {
  readonly bytes: Buffer;
  /** The whole object's size: `bytes` are [size - bytes.length, size). */
  readonly size: number;
  readonly etag: string;
}

/** What a finished write stored. */
export interface WriteResult {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/**
 * A write in progress (`Storage.write`). Nothing of it is visible under its key until `close()`
 * has resolved; `abort()` (or a failed `close`) leaves nothing.
 */
export interface ObjectWriter {
  /** Appends bytes; resolves when they are taken (backpressure: await each call). */
  write(chunk: Uint8Array): Promise<void>;
  /** Finishes the object and publishes it under its key, replacing what was there. */
  close(): Promise<WriteResult>;
  /** Drops what was written; idempotent, and safe after a failed `write` or `close`. */
  abort(): Promise<void>;
}

/**
 * A write whose bytes are all stored but not yet published (`Storage.writePending`): on S3 a
 * multipart upload not completed, locally a hidden temporary file. Whoever holds it (the master,
 * from a task's commit record) publishes it with `completePending`, or drops it with
 * `abortPending`. It is plain data: it can be sent between processes and saved.
 */
export interface PendingWrite {
  readonly key: string;
  /** S3: the multipart upload's id; local: the temporary file's name beside the key. */
  readonly uploadId: string;
  /** S3: the parts, as CompleteMultipartUpload names them; local: one part. */
  readonly parts: readonly { readonly n: number; readonly etag: string; readonly bytes: number }[];
  /** The whole object's size once published. */
  readonly bytes: number;
}

/** A pending write in progress: `close()` stores the last bytes and says what to publish. */
export interface PendingWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<PendingWrite>;
  abort(): Promise<void>;
}

/** How `createIfAbsent` keeps its promise on this storage (docs/storage.md, "createIfAbsent"). */
export type CreateIfAbsentMode =
  /** The storage decides atomically: of concurrent creates exactly one returns true. */
  | 'atomic'
  /** Check, then write: a concurrent create may also win and replace the bytes. Callers must fence otherwise. */
  | 'check-then-write';

export interface Storage {
  /** What the storage is, for messages: `local` or `s3`. */
  readonly kind: 'local' | 's3';

  /** The URI a user would recognise for `key` (`/data/in/a.txt`, `s3://bucket/in/a.txt`), for messages. */
  uri(key: string): string;

  /**
   * Every object whose key starts with `prefix` (`''` or ending in `/`), at any depth, in byte
   * order of their UTF-8 keys, fetched a page at a time. A missing prefix lists nothing; empty
   * local directories are not objects. Hidden names are listed: skipping `_` and `.` is the
   * caller's rule (`isHiddenKey`). Who calls: input listing (planning splits), the committer
   * (`_temporary/`), the manager's clean-up; any number of times.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<StorageEntry>;

  /** One page of `list`: at most `limit` entries (the implementation's page size by default) and where to go on. */
  listPage(prefix: string, options?: ListOptions): Promise<ListPage>;

  /** The object at `key`; a StorageError 'not-found' if there is none (a local directory is none). */
  stat(key: string): Promise<StorageStat>;

  /**
   * The bytes [start, end) of the object, streamed. `end` past the size is clamped; `start` ≥ the
   * size (or `start` = `end`) gives no bytes, but the object must exist. A connection that drops
   * mid-read is resumed from the last byte received, of the same version of the object (S3:
   * `If-Match` its ETag), so a changed object is a StorageError 'changed', never mixed bytes.
   * Errors surface as the stream's error. Who calls: split readers, reducers fetching segments,
   * downloads; idempotent.
   */
  read(key: string, options?: ReadOptions): Readable;

  /** `read` gathered into one buffer: for small reads (index footers, manifests). */
  readRange(key: string, options?: ReadOptions): Promise<Buffer>;

  /**
   * The last `bytes` bytes of the object (all of it if it is smaller), with its size and etag, in
   * one request: how a reducer reads a map output's index footer, then its segment with `read`
   * and `ifMatch: etag`, so that all of it comes from one version. 'not-found' if there is none.
   */
  readTail(key: string, bytes: number): Promise<Tail>;

  /**
   * Starts a streamed write of `key` (S3: a multipart upload; local: a temporary file renamed at
   * the end). Visible only once `close()` resolves, then whole; an aborted or failed write leaves
   * nothing, and an object it would replace stays intact until then. Who calls: part writers,
   * map outputs, uploads; once per object per attempt.
   */
  write(key: string): ObjectWriter;

  /**
   * Starts a write that `close()` leaves unpublished: nothing is visible under `key` (nor listed)
   * until someone calls `completePending` with what `close()` returned. Several pending writes of
   * one key may coexist; each is independent. Who calls: a reduce attempt writing its part at its
   * final key, for the job commit to publish (docs/object-store-commit.md).
   */
  writePending(key: string): PendingWriter;

  /**
   * Publishes a pending write: the object at its key becomes its bytes, atomically, replacing
   * any. Idempotent: a pending write already completed (by a call whose reply was lost, or before
   * a crash) is recognised (S3: the object's ETag from the parts' MD5s; local: its inode) and is
   * done; an aborted one is 'not-found'. Who calls: the job commit, once per part.
   */
  completePending(pending: PendingWrite): Promise<WriteResult>;

  /** Drops a pending write; one already gone is fine. Who calls: losers, the job's clean-up. */
  abortPending(pending: Pick<PendingWrite, 'key' | 'uploadId'>): Promise<void>;

  /** The pending writes under `prefix` not completed nor aborted (leftovers to clean up), in key order. */
  listPending(prefix: string): AsyncIterable<Pick<PendingWrite, 'key' | 'uploadId'>>;

  /**
   * Stores `bytes` at `key` unless an object is there: true if this call created it, false if it
   * found one (whose bytes it left alone). The fencing primitive of commits. See `createIfAbsentMode`
   * for whether concurrent creates are decided atomically on this storage. Make `bytes` unique to
   * the caller (an attempt's id): a retried request whose first reply was lost is told apart from
   * another caller's create by them. Who calls: task and job commits, dataset names; once each.
   */
  createIfAbsent(key: string, bytes: Uint8Array): Promise<boolean>;

  /** How `createIfAbsent` decides on this storage (S3: found out once per bucket, or configured). */
  createIfAbsentMode(): Promise<CreateIfAbsentMode>;

  /** Removes the object at `key`; a missing one is fine. Idempotent. */
  delete(key: string): Promise<void>;

  /** Removes every object under `prefix` (ending in `/`, not `''`); nothing there is fine. Idempotent; not atomic. */
  deletePrefix(prefix: string): Promise<void>;
}

/**
 * Whether `key` (listed under `prefix`) has a name past the prefix that starts with `_` or `.` —
 * Hadoop's convention for `_SUCCESS`, `_temporary/` and hidden files, which input listings skip.
 */
export function isHiddenKey(key: string, prefix = ''): boolean {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return rest.split('/').some((name) => name.startsWith('_') || name.startsWith('.'));
}

/**
 * The listing an input directory gives today: every object under `prefix` but the hidden ones
 * (`isHiddenKey`: `_SUCCESS`, `_temporary/`, `.crc`, at any depth), in key order.
 */
export async function* listVisible(storage: Storage, prefix: string): AsyncIterable<StorageEntry> {
  for await (const e of storage.list(prefix)) if (!isHiddenKey(e.key, prefix)) yield e;
}

/** Why a key or prefix is malformed, or undefined if it is well formed. */
export function keyProblem(key: string, what: 'key' | 'prefix' = 'key'): string | undefined {
  if (what === 'prefix') {
    if (key === '') return undefined;
    if (!key.endsWith('/')) return 'a prefix must be empty or end with "/"';
    key = key.slice(0, -1);
  }
  if (key === '') return 'it is empty';
  if (key.startsWith('/')) return 'it starts with "/"';
  if (key.includes('\0')) return 'it contains a NUL byte';
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'it has an empty, "." or ".." segment';
  return undefined;
}

/** Throws a TypeError naming the problem if `key` is malformed (a programming error of the caller). */
export function checkKey(key: string, what: 'key' | 'prefix' = 'key'): void {
  const problem = keyProblem(key, what);
  if (problem !== undefined) throw new TypeError(`malformed storage ${what} ${JSON.stringify(key)}: ${problem}`);
}

/** A range's bounds must be integers with 0 ≤ start ≤ end: a caller's mistake otherwise. */
export function checkRange(start: number, end: number | undefined): void {
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`malformed byte range [${start}, ${end ?? 'end'}): need integers with 0 ≤ start ≤ end`);
  }
}

/** Compares keys by the bytes of their UTF-8 encoding: the order S3 lists in, and `list`'s. */
export function compareStorageKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Writes all of `source` to `key` through `storage.write`, aborting if the source or a write fails. */
export async function writeFrom(storage: Storage, key: string, source: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<WriteResult> {
  const writer = storage.write(key);
  try {
    if (source instanceof Uint8Array) await writer.write(source);
    else for await (const chunk of source) await writer.write(chunk);
    return await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** A read gathered into one buffer: `readRange` of every implementation. */
export async function gathered(read: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of read) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
