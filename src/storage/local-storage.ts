/**
 * The Storage seam on a POSIX filesystem (today's behaviour): a key is a path under the root
 * directory, a write a temporary file renamed into place, createIfAbsent a `link()`, which fails
 * atomically if the name is taken. Every process that shares the directory sees the same objects.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { abortLocalPending, completeLocalPending, listLocalPending, LocalPendingWriter, PENDING_MARK } from './local-pending.ts';
import { TempFile } from './local-temp-file.ts';
import { changed, fromLocalError, notFound } from './storage-errors.ts';
import { checkKey, checkRange, gathered, compareStorageKeys, type CreateIfAbsentMode, type ListOptions, type ListPage, type ObjectWriter, type PendingWrite, type PendingWriter, type ReadOptions, type Storage, type StorageEntry, type StorageStat, type Tail, type WriteResult } from './storage.ts';

/** The names of writes in progress: never listed, whatever the caller's rule for hidden names. */
const TEMP_MARK = '.torpedo-write-';
const CHUNK = 256 * 1024;
const DEFAULT_PAGE = 1000;

export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  readonly #root: string;

  /** `root`: the directory keys are relative to (`/` for `storageFor`'s local paths). */
  constructor(root: string) {
    this.#root = root;
  }

  uri(key: string): string {
    return join(this.#root, key);
  }

  async *list(prefix: string, o: ListOptions = {}): AsyncIterable<StorageEntry> {
    const page = await this.#listAll(prefix, o);
    yield* page;
  }

  async listPage(prefix: string, o: ListOptions = {}): Promise<ListPage> {
    const limit = o.limit ?? DEFAULT_PAGE;
    const entries = await this.#listAll(prefix, { ...o, limit: limit + 1 });
    if (entries.length <= limit) return { entries };
    const shown = entries.slice(0, limit);
    return { entries: shown, next: shown[shown.length - 1]?.key };
  }

  /**
   * The walk behind `list`: every file under the prefix's directory, following symbolic links (a
   * link to a directory among its own ancestors is not followed again; a dangling one is no
   * object), sorted by the bytes of the keys as S3 lists them, so that `after` pages the same way.
   */
  async #listAll(prefix: string, o: ListOptions): Promise<StorageEntry[]> {
    checkKey(prefix, 'prefix');
    const found: StorageEntry[] = [];
    const walk = async (dir: string, keyPrefix: string, ancestors: ReadonlySet<string>): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw fromLocalError(e, dir, 'listing');
      }
      for (const name of names) {
        if (name.startsWith(TEMP_MARK) || name.startsWith(PENDING_MARK)) continue;
        const path = join(dir, name);
        const s = await stat(path, { bigint: true }).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT' || e.code === 'ELOOP') return undefined;
          throw fromLocalError(e, path, 'listing');
        });
        if (s === undefined) continue;
        const key = keyPrefix + name;
        if (s.isDirectory()) {
          const id = `${s.dev}:${s.ino}`;
          if (!ancestors.has(id)) await walk(path, `${key}/`, new Set([...ancestors, id]));
        } else if (s.isFile()) {
          found.push(entryOf(key, s));
        }
      }
    };
    const top = prefix === '' ? this.#root : join(this.#root, prefix);
    const topStat = await stat(top, { bigint: true }).catch(() => undefined);
    if (topStat?.isDirectory()) await walk(top, prefix, new Set([`${topStat.dev}:${topStat.ino}`]));
    found.sort((a, b) => compareStorageKeys(a.key, b.key));
    const after = o.after;
    const start = after === undefined ? 0 : found.findIndex((e) => compareStorageKeys(e.key, after) > 0);
    if (start < 0) return [];
    return found.slice(start, o.limit === undefined ? undefined : start + o.limit);
  }

  async stat(key: string): Promise<StorageStat> {
    checkKey(key);
    const path = this.uri(key);
    const s = await stat(path, { bigint: true }).catch((e: unknown) => {
      throw fromLocalError(e, path, 'reading');
    });
    if (!s.isFile()) throw notFound(path, 'is a directory, not a file');
    return entryOf(key, s);
  }

  read(key: string, o: ReadOptions = {}): Readable {
    checkKey(key);
    const path = this.uri(key);
    const start = o.start ?? 0;
    checkRange(start, o.end);
    async function* bytes(): AsyncGenerator<Buffer> {
      const { fh, s } = await openFile(path);
      try {
        if (o.ifMatch !== undefined && etagOf(s) !== o.ifMatch) throw changed(path, 'its size, modification time or inode differ from those asked for');
        const end = Math.min(o.end ?? Number(s.size), Number(s.size));
        for (let at = start; at < end; ) {
          const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - at));
          const { bytesRead } = await fh.read(buf, 0, buf.length, at);
          if (bytesRead === 0) throw changed(path, `it ended at byte ${at}, before ${end}`);
          at += bytesRead;
          yield buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  async readRange(key: string, o: ReadOptions = {}): Promise<Buffer> {
    return await gathered(this.read(key, o));
  }

  async readTail(key: string, bytes: number): Promise<Tail> {
    checkKey(key);
    checkRange(0, bytes);
    const path = this.uri(key);
    const { fh, s } = await openFile(path);
    try {
      const size = Number(s.size);
      const n = Math.min(bytes, size);
      const buf = Buffer.alloc(n);
      for (let got = 0; got < n; ) {
        const { bytesRead } = await fh.read(buf, got, n - got, size - n + got);
        if (bytesRead === 0) throw changed(path, `it ended before byte ${size}`);
        got += bytesRead;
      }
      return { bytes: buf, size, etag: etagOf(s) };
    } finally {
      await fh.close();
    }
  }

  write(key: string): ObjectWriter {
    checkKey(key);
    return new LocalWriter(key, this.uri(key));
  }

  writePending(key: string): PendingWriter {
    checkKey(key);
    return new LocalPendingWriter(key, this.uri(key));
  }

  completePending(pending: PendingWrite): Promise<WriteResult> {
    checkKey(pending.key);
    return completeLocalPending(this.uri(pending.key), pending, async (path) => etagOf(await stat(path, { bigint: true })));
  }

  abortPending(pending: Pick<PendingWrite, 'key' | 'uploadId'>): Promise<void> {
    checkKey(pending.key);
    return abortLocalPending(this.uri(pending.key), pending.uploadId);
  }

  async *listPending(prefix: string): AsyncIterable<Pick<PendingWrite, 'key' | 'uploadId'>> {
    checkKey(prefix, 'prefix');
    const found = await listLocalPending(prefix === '' ? this.#root : join(this.#root, prefix), prefix);
    yield* found.sort((a, b) => compareStorageKeys(a.key, b.key) || compareStorageKeys(a.uploadId, b.uploadId));
  }

  async createIfAbsent(key: string, bytes: Uint8Array): Promise<boolean> {
    checkKey(key);
    const path = this.uri(key);
    const tmp = tempPath(path);
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(bytes);
      } finally {
        await fh.close();
      }
      await link(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fromLocalError(e, path, 'creating');
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  createIfAbsentMode(): Promise<CreateIfAbsentMode> {
    return Promise.resolve('atomic');
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    const path = this.uri(key);
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw fromLocalError(e, path, 'deleting');
    });
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkKey(prefix, 'prefix');
    if (prefix === '') throw new TypeError('deletePrefix of the whole storage is refused: name a prefix');
    const path = this.uri(prefix);
    await rm(path, { recursive: true, force: true }).catch((e: unknown) => {
      throw fromLocalError(e, path, 'deleting');
    });
  }
}

/** A write to a temporary file beside the target, renamed over it at `close`. */
class LocalWriter implements ObjectWriter {
  readonly #key: string;
  readonly #file: TempFile;

  constructor(key: string, path: string) {
    this.#key = key;
    this.#file = new TempFile(path, tempPath(path));
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#file.write(chunk);
  }

  async close(): Promise<WriteResult> {
    const f = this.#file;
    try {
      await f.seal();
      await rename(f.tmp, f.path);
      const s = await stat(f.path, { bigint: true });
      return { key: this.#key, size: f.size, etag: etagOf(s) };
    } catch (e) {
      await f.discard();
      throw fromLocalError(e, f.path, 'writing');
    }
  }

  abort(): Promise<void> {
    return this.#file.abort();
  }
}

/** The file at `path` open for reading, with its status; a directory is not-found. */
async function openFile(path: string): Promise<{ fh: FileHandle; s: BigIntStats }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fromLocalError(e, path, 'reading');
  }
  const s = await fh.stat({ bigint: true }).catch(async (e: unknown) => {
    await fh.close();
    throw fromLocalError(e, path, 'reading');
  });
  if (!s.isFile()) {
    await fh.close();
    throw notFound(path, 'is a directory, not a file');
  }
  return { fh, s };
}

function tempPath(path: string): string {
  return join(dirname(path), `${TEMP_MARK}${basename(path)}-${randomBytes(6).toString('hex')}`);
}

function etagOf(s: BigIntStats): string {
  return `${s.size}-${s.mtimeNs}-${s.ino}`;
}

function entryOf(key: string, s: BigIntStats): StorageEntry {
  return { key, size: Number(s.size), mtimeMs: Number(s.mtimeMs), etag: etagOf(s) };
}
