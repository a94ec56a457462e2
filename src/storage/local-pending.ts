/**
 * Pending writes on the local storage: a hidden temporary file beside the key
 * (`.torpedo-pending-NAME-RANDOM`), which `completeLocalPending` renames over the key. Listings
 * never show it; `listLocalPending` finds the ones left.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TempFile } from './local-temp-file.ts';
import { fromLocalError, notFound } from './storage-errors.ts';
import type { PendingWrite, PendingWriter, WriteResult } from './storage.ts';

export const PENDING_MARK = '.torpedo-pending-';

export class LocalPendingWriter implements PendingWriter {
  readonly #key: string;
  readonly #file: TempFile;

  constructor(key: string, path: string) {
    this.#key = key;
    this.#file = new TempFile(path, join(dirname(path), `${PENDING_MARK}${basename(path)}-${randomBytes(6).toString('hex')}`));
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#file.write(chunk);
  }

  async close(): Promise<PendingWrite> {
    const f = this.#file;
    try {
      const ino = await f.seal();
      // The part's etag is the file's inode, which the rename keeps: how a retried completion knows its own file.
      return { key: this.#key, uploadId: basename(f.tmp), parts: [{ n: 1, etag: String(ino), bytes: f.size }], bytes: f.size };
    } catch (e) {
      await f.abort();
      throw fromLocalError(e, f.path, 'writing');
    }
  }

  abort(): Promise<void> {
    return this.#file.abort();
  }
}

/** The temporary file of `pending` (whose key is at `path`), refusing an id that is not one of ours. */
function tempOf(path: string, uploadId: string): string {
  if (!uploadId.startsWith(PENDING_MARK) || uploadId.includes('/') || uploadId.includes('\0')) throw new TypeError(`not a local pending write's id: ${JSON.stringify(uploadId)}`);
  return join(dirname(path), uploadId);
}

/** Renames the pending file over `path`; already renamed (a retry) if it is gone and `path` is that file (its inode). */
export async function completeLocalPending(path: string, pending: PendingWrite, etagOf: (path: string) => Promise<string>): Promise<WriteResult> {
  const tmp = tempOf(path, pending.uploadId);
  try {
    await rename(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromLocalError(e, path, 'publishing');
    const there = await stat(path, { bigint: true }).catch(() => undefined);
    if (there === undefined || Number(there.size) !== pending.bytes || String(there.ino) !== pending.parts[0]?.etag) throw notFound(path, `no such pending write (${pending.uploadId}), and the object there is not it`);
  }
  return { key: pending.key, size: pending.bytes, etag: await etagOf(path) };
}

export async function abortLocalPending(path: string, uploadId: string): Promise<void> {
  await unlink(tempOf(path, uploadId)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw fromLocalError(e, path, 'deleting');
  });
}

/** Pending files under `dir` (whose keys start with `keyPrefix`), at any depth. */
export async function listLocalPending(dir: string, keyPrefix: string): Promise<{ key: string; uploadId: string }[]> {
  const found: { key: string; uploadId: string }[] = [];
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of names) {
    if (e.isDirectory()) found.push(...(await listLocalPending(join(dir, e.name), `${keyPrefix}${e.name}/`)));
    else if (e.isFile() && e.name.startsWith(PENDING_MARK)) {
      const name = e.name.slice(PENDING_MARK.length).replace(/-[0-9a-f]{12}$/, '');
      found.push({ key: keyPrefix + name, uploadId: e.name });
    }
  }
  return found;
}
