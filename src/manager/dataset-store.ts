import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, mkdir, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, asc, eq } from 'drizzle-orm';
import { TorpedoError } from '../errors.ts';
import type { Db } from './database/database.ts';
import { datasets, users } from './database/schema.ts';
import type { Dataset } from './rest-types.ts';
import { storageFor } from '../storage/storage-uri.ts';
import type { Storage } from '../storage/storage.ts';

export type DatasetRow = typeof datasets.$inferSelect;

export type DatasetView = Dataset;

/** Datasets in S3: the storage, the key prefix of `datasets/`, and its URI. */
interface RemoteDatasets {
  readonly storage: Storage;
  readonly prefix: string;
  readonly base: string;
}

/**
 * Datasets on the local storage directory, HOME/datasets/<owner id>/<name>, or in S3
 * (TORPEDO_STORAGE=s3://BUCKET/PREFIX/: PREFIX/datasets/<owner id>/<name>), one file or object
 * each, with a row per dataset in the database. Names are checked by the routes
 * (`checkDatasetName`) before they reach here, and owner ids are numbers, so a path or key can
 * never leave the owner's directory or prefix.
 */
export class DatasetStore {
  readonly #root: string;
  readonly #db: Db;
  /** The bucket and prefix of `datasets/`, with TORPEDO_STORAGE. */
  readonly #remote: RemoteDatasets | undefined;

  constructor(home: string, db: Db, storage?: string) {
    this.#root = join(home, 'datasets');
    this.#db = db;
    if (storage !== undefined) {
      const { storage: at, key } = storageFor(storage);
      const prefix = `${key === '' || key.endsWith('/') ? key : `${key}/`}datasets/`;
      this.#remote = { storage: at, prefix, base: at.uri(prefix) };
    }
  }

  /** Where a job reads the dataset: a path, or an `s3://` URI (its workers reach it through their storage gateway). */
  pathOf(ownerId: number, name: string): string {
    return this.#remote !== undefined ? `${this.#remote.base}${ownerId}/${name}` : join(this.#root, String(ownerId), name);
  }

  /** The dataset's bytes, streamed (a download). */
  open(ownerId: number, name: string): Readable {
    return this.#remote !== undefined ? this.#remote.storage.read(`${this.#remote.prefix}${ownerId}/${name}`) : createReadStream(this.pathOf(ownerId, name));
  }

  /**
   * An upload to S3: streamed as a multipart upload, counted and hashed on the way, visible under
   * its key only when complete and within `maxBytes` (an aborted upload leaves nothing). Without
   * `overwrite` an existing name is a conflict; two uploads of one new name at once are not
   * told apart there (the later one's bytes stay, under one row): S3 has no link.
   */
  async #saveRemote(remote: RemoteDatasets, ownerId: number, name: string, body: Readable, o: { maxBytes: number }): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    const writer = remote.storage.write(`${remote.prefix}${ownerId}/${name}`);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > o.maxBytes) throw tooLarge(o.maxBytes);
        hash.update(chunk);
        await writer.write(chunk);
      }
      await writer.close();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return { size, sha256: hash.digest('hex') };
  }

  /**
   * Streams `body` to a temporary file in the owner's directory, counting and hashing it, and
   * publishes it under `name` only when it is complete and within `maxBytes`: an upload that is
   * too large or breaks off leaves nothing behind, and a dataset it would replace stays intact
   * until then. Without `overwrite` an existing name is a conflict (`link` refuses atomically).
   */
  async save(ownerId: number, name: string, body: Readable, o: { overwrite: boolean; maxBytes: number }): Promise<DatasetRow> {
    if (this.#remote !== undefined) {
      if (!o.overwrite && (await this.find(ownerId, name)) !== undefined) throw exists(name);
      const stored = await this.#saveRemote(this.#remote, ownerId, name, body, o);
      return await this.#saveRow(ownerId, name, stored, o.overwrite);
    }
    const dir = join(this.#root, String(ownerId));
    await mkdir(dir, { recursive: true });
    const final = join(dir, name);
    if (!o.overwrite && (await this.find(ownerId, name)) !== undefined) throw exists(name);
    const tmp = join(dir, `.upload-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > o.maxBytes) return done(tooLarge(o.maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
      if (o.overwrite) {
        await rename(tmp, final);
      } else {
        try {
          await link(tmp, final);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw exists(name);
          throw e;
        }
      }
    } finally {
      await unlink(tmp).catch(() => {});
    }
    // Fault injection for the tests: die between publishing the file and saving its row.
    if (process.env['TORPEDO_TEST_CRASH_AFTER_PUBLISH'] === name) process.kill(process.pid, 'SIGKILL');
    return await this.#saveRow(ownerId, name, { size, sha256: hash.digest('hex') }, o.overwrite);
  }

  async #saveRow(ownerId: number, name: string, stored: { size: number; sha256: string }, overwrite: boolean): Promise<DatasetRow> {
    const row = { ownerId, name, ...stored, createdAt: new Date() };
    try {
      const saved = await this.#db
        .insert(datasets)
        .values(row)
        .onConflictDoUpdate({ target: [datasets.ownerId, datasets.name], set: { size: row.size, sha256: row.sha256, createdAt: row.createdAt } })
        .returning();
      return saved[0] as DatasetRow;
    } catch (e) {
      // No row (a database outage): a new name is unpublished again, so it is not left taken by a
      // file nobody lists. (A replaced dataset keeps its new bytes under its old row.)
      if (!overwrite) await this.#unpublish(ownerId, name);
      throw e;
    }
  }

  /**
   * What a manager killed mid-upload left in the storage directory: temporary upload files, and
   * published files without a row (killed between the two), which would keep their name taken.
   * Both are removed, if not touched for `olderThanMs` (0 for a manager alone on its storage;
   * with replicas, long enough that another replica's upload in progress is never taken).
   * Returns what was removed, for the log.
   */
  async removeLeftovers(olderThanMs: number): Promise<string[]> {
    if (this.#remote !== undefined) return await this.#removeRemoteLeftovers(this.#remote, olderThanMs);
    const removed: string[] = [];
    const owners = await readdir(this.#root).catch(() => [] as string[]);
    const rows = await this.#db.select({ ownerId: datasets.ownerId, name: datasets.name }).from(datasets);
    const known = new Set(rows.map((r) => `${r.ownerId}/${r.name}`));
    const cutoff = Date.now() - olderThanMs;
    for (const owner of owners.filter((o) => /^\d+$/.test(o))) {
      for (const name of await readdir(join(this.#root, owner)).catch(() => [] as string[])) {
        const path = join(this.#root, owner, name);
        const stat = await lstat(path).catch(() => undefined);
        if (stat === undefined || !stat.isFile() || stat.mtimeMs > cutoff) continue;
        if (name.startsWith('.upload-') || !known.has(`${owner}/${name}`)) {
          await unlink(path).catch(() => {});
          removed.push(`${owner}/${name}`);
        }
      }
    }
    return removed;
  }

  /** In S3: objects with no row (a manager killed between the upload and the row), if not touched for `olderThanMs`. */
  async #removeRemoteLeftovers(remote: RemoteDatasets, olderThanMs: number): Promise<string[]> {
    const rows = await this.#db.select({ ownerId: datasets.ownerId, name: datasets.name }).from(datasets);
    const known = new Set(rows.map((r) => `${r.ownerId}/${r.name}`));
    const cutoff = Date.now() - olderThanMs;
    const removed: string[] = [];
    for await (const e of remote.storage.list(remote.prefix)) {
      const rest = e.key.slice(remote.prefix.length);
      if (!/^\d+\/[^/]+$/.test(rest) || known.has(rest) || e.mtimeMs > cutoff) continue;
      await remote.storage.delete(e.key);
      removed.push(rest);
    }
    return removed;
  }

  /** Removes a dataset's bytes (a missing one is fine). */
  async #unpublish(ownerId: number, name: string): Promise<void> {
    if (this.#remote !== undefined) await this.#remote.storage.delete(`${this.#remote.prefix}${ownerId}/${name}`).catch(() => {});
    else await unlink(this.pathOf(ownerId, name)).catch(() => {});
  }

  async find(ownerId: number, name: string): Promise<DatasetRow | undefined> {
    return (await this.#db.select().from(datasets).where(and(eq(datasets.ownerId, ownerId), eq(datasets.name, name))).limit(1))[0];
  }

  /** One owner's datasets, or everyone's (`ownerId` undefined), with owner names. */
  async list(ownerId: number | undefined): Promise<DatasetView[]> {
    const rows = await this.#db
      .select({ d: datasets, owner: users.username })
      .from(datasets)
      .innerJoin(users, eq(users.id, datasets.ownerId))
      .where(ownerId === undefined ? undefined : eq(datasets.ownerId, ownerId))
      .orderBy(asc(users.username), asc(datasets.name));
    return rows.map((r) => datasetView(r.d, r.owner));
  }

  async remove(ownerId: number, name: string): Promise<void> {
    await this.#db.delete(datasets).where(and(eq(datasets.ownerId, ownerId), eq(datasets.name, name)));
    if (this.#remote !== undefined) await this.#remote.storage.delete(`${this.#remote.prefix}${ownerId}/${name}`);
    else await rm(this.pathOf(ownerId, name), { force: true });
  }

  /**
   * Lets the group `gid` — the dataset group of the owner, which only the owner's jobs have —
   * read the owner's datasets `names` (mode 0640; the manager keeps them). Called before a job
   * reading them starts; the rest of the storage directory stays the manager's alone.
   */
  async grantRead(ownerId: number, names: readonly string[], gid: number): Promise<void> {
    // In S3, what a job reads is its storage gateway's grants (docs/storage.md), not a file's mode.
    if (this.#remote !== undefined) return;
    for (const name of names) {
      const path = this.pathOf(ownerId, name);
      await lchown(path, process.getuid?.() ?? 0, gid);
      await chmod(path, 0o640);
    }
  }

  /** Removes every file of a user being deleted (their rows go with the user). */
  async removeOwner(ownerId: number): Promise<void> {
    if (this.#remote !== undefined) return await this.#remote.storage.deletePrefix(`${this.#remote.prefix}${ownerId}/`);
    await rm(join(this.#root, String(ownerId)), { recursive: true, force: true });
  }
}

export function datasetView(d: DatasetRow, owner: string): DatasetView {
  return { name: d.name, owner, size: d.size, sha256: d.sha256, createdAt: d.createdAt.toISOString() };
}

function exists(name: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_CONFLICT', `a dataset named ${JSON.stringify(name)} exists; pass overwrite=true to replace it`);
}

export function tooLarge(maxBytes: number): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_TOO_LARGE', `the upload is over the limit of ${maxBytes} bytes; nothing was stored`);
}
