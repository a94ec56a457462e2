// The conformance suite of the Storage seam (src/storage/storage.ts, contract in docs/storage.md):
// one set of tests that every implementation runs, the way Kysely runs one suite against every
// dialect. A harness gives a storage on a real backend (a temporary directory, an S3 server on
// loopback), and for S3 the fault proxy in front of it and storages whose requests must fail
// (a missing bucket, a wrong secret, no credentials at all). Each test works under a fresh prefix.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { compareStorageKeys, isStorageError, writeFrom, type PendingWrite, type Storage, type StorageErrorReason } from '../../src/storage/index.ts';

/** What a harness can do to the requests of `storage`: the S3 fault proxy (test/support/s3-fault-proxy.ts). */
export interface StorageFaults {
  /** The next `n` requests are answered 503 SlowDown without reaching the server. */
  throttleNext(n: number): void;
  /** The next `n` GETs' connections are cut after `bytes` bytes of their bodies. */
  dropNextAfter(bytes: number, n: number): void;
  stats(): { readonly throttled: number; readonly dropped: number };
}

/** Storages of the same kind whose requests must fail, and what their errors must never show. */
export interface FailingStorages {
  readonly missingBucket?: { readonly storage: Storage; readonly uri: string };
  /** Credentials the server must refuse: a wrong secret where it checks signatures, else an unknown access key id. */
  readonly badCredentials?: Storage;
  /** Requests run in processes of their own (no credentials anywhere; wrong ones in the environment), with the reason each must fail with. */
  readonly inChild?: readonly { readonly what: string; readonly reason: StorageErrorReason; run(): Promise<{ readonly code: string; readonly reason: string; readonly message: string }> }[];
  /** A storage whose endpoint refuses connections (a closed port): every request fails after its retries. */
  readonly unreachable?: Storage;
  /** Strings no message may contain: access key ids and secrets. */
  readonly secrets: readonly string[];
}

export interface StorageHarness {
  readonly storage: Storage;
  /** A storage on the same backend whose requests go through the fault proxy. */
  readonly faulty?: {
    readonly storage: Storage;
    readonly faults: StorageFaults;
    /** The most attempts `storage` makes per request, and how often a read resumes with no progress. */
    readonly attempts: number;
    readonly readResumes: number;
  };
  readonly failing?: FailingStorages;
  /** Multipart uploads begun and neither completed nor aborted under `prefix` (S3), to see that an abort leaves none. */
  readonly pendingUploads?: (prefix: string) => Promise<number>;
  /** Stops what the harness started; after the suite. */
  close(): Promise<void>;
}

export type Clause = 'atomic-create' | 'key-order' | 'paged-listing' | 'pending-abort';

export interface ConformanceOptions {
  /** Clauses the implementation documents it does not keep, and why: skipped with that reason. */
  readonly exempt?: Partial<Record<Clause, string>>;
  /** Why the whole suite cannot run here. */
  readonly skip?: string;
}

/** Registers the suite for one implementation; `setup` is called once, before its tests. */
export function describeStorageConformance(name: string, setup: () => Promise<StorageHarness>, o: ConformanceOptions = {}): void {
  describe(`Storage conformance: ${name}`, { skip: o.skip ?? false }, () => {
    let h: StorageHarness;
    let s: Storage;
    const fresh = (): string => `t-${randomBytes(5).toString('hex')}/`;
    before(async () => {
      h = await setup();
      s = h.storage;
    });
    after(async () => h?.close());

    test('a written object is read back whole, listed and stat-ed with its size', async () => {
      const p = fresh();
      const bytes = randomBytes(70_000);
      const w = await writeFrom(s, `${p}dir/a.bin`, bytes);
      assert.equal(w.size, bytes.length);
      assert.deepEqual(await s.readRange(`${p}dir/a.bin`), bytes);
      const st = await s.stat(`${p}dir/a.bin`);
      assert.equal(st.size, bytes.length);
      assert.equal(st.key, `${p}dir/a.bin`);
      assert.ok(st.etag !== '', 'an etag');
      const listed = await collect(s.list(p));
      assert.deepEqual(listed.map((e) => [e.key, e.size]), [[`${p}dir/a.bin`, bytes.length]]);
      await writeFrom(s, `${p}empty`, new Uint8Array(0));
      assert.equal((await s.stat(`${p}empty`)).size, 0);
      assert.equal((await s.readRange(`${p}empty`)).length, 0);
    });

    test('listing pages past 1,000 entries, in byte order of the keys, with after and limit', { skip: o.exempt?.['paged-listing'] ?? false }, async () => {
      const p = fresh();
      const keys = [...Array.from({ length: 1_040 }, (_, i) => `${p}in/f-${String(i).padStart(5, '0')}`), `${p}in/d/x`, `${p}in/é`, `${p}in/z`];
      await inParallel(keys, 16, (k) => writeFrom(s, k, Buffer.from(k)).then(() => undefined));
      const expected = [...keys].sort(compareStorageKeys);
      const all = await collect(s.list(`${p}in/`));
      assert.deepEqual(all.map((e) => e.key), expected, 'every key once, in byte order');
      const first = await s.listPage(`${p}in/`, { limit: 1000 });
      assert.equal(first.entries.length, 1000);
      assert.equal(first.next, expected[999]);
      const second = await s.listPage(`${p}in/`, { limit: 1000, after: first.next ?? '' });
      assert.deepEqual(second.entries.map((e) => e.key), expected.slice(1000));
      assert.equal(second.next, undefined);
      const some = await collect(s.list(`${p}in/`, { after: expected[10] ?? '', limit: 5 }));
      assert.deepEqual(some.map((e) => e.key), expected.slice(11, 16));
      assert.deepEqual(await collect(s.list(`${p}missing/`)), [], 'a missing prefix lists nothing');
      assert.deepEqual(await collect(s.list(`${p}in/f-0000`.replace(/[^/]*$/, 'nothing/'))), []);
    });

    test('keys list in byte order of UTF-8 across "directories": a-b before a/b before a0', { skip: o.exempt?.['key-order'] ?? false }, async () => {
      const p = fresh();
      const keys = ['a/b', 'a-b', 'a0', 'Z', 'é', 'z', '\u{1F600}', '\uFFFD'].map((k) => `${p}${k}`);
      for (const k of keys) await writeFrom(s, k, Buffer.from(k));
      const expected = [...keys].sort(compareStorageKeys);
      assert.deepEqual((await collect(s.list(p))).map((e) => e.key), expected);
      const paged: string[] = [];
      for (let after: string | undefined; ; ) {
        const page = await s.listPage(p, { limit: 2, ...(after !== undefined ? { after } : {}) });
        paged.push(...page.entries.map((e) => e.key));
        if (page.next === undefined) break;
        after = page.next;
      }
      assert.deepEqual(paged, expected, 'pages of 2 give the same listing');
    });

    test('a prefix is a directory: listing or deleting a/ does not touch ab/', async () => {
      const p = fresh();
      for (const k of ['a/1', 'a/sub/2', 'ab/3', 'a.txt']) await writeFrom(s, `${p}${k}`, Buffer.from(k));
      assert.deepEqual((await collect(s.list(`${p}a/`))).map((e) => e.key), [`${p}a/1`, `${p}a/sub/2`]);
      await s.deletePrefix(`${p}a/`);
      assert.deepEqual((await collect(s.list(p))).map((e) => e.key), [`${p}a.txt`, `${p}ab/3`]);
      await s.deletePrefix(`${p}a/`);
      await s.deletePrefix(`${p}never/`);
    });

    test('ranged reads at every edge: empty ranges, end past the size, start at or past the size', async () => {
      const p = fresh();
      const bytes = randomBytes(1000);
      await writeFrom(s, `${p}r`, bytes);
      const read = (start?: number, end?: number): Promise<Buffer> => s.readRange(`${p}r`, { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
      assert.deepEqual(await read(), bytes);
      assert.deepEqual(await read(0, 0), Buffer.alloc(0));
      assert.deepEqual(await read(500, 500), Buffer.alloc(0));
      assert.deepEqual(await read(10, 20), bytes.subarray(10, 20));
      assert.deepEqual(await read(0, 1), bytes.subarray(0, 1));
      assert.deepEqual(await read(999), bytes.subarray(999));
      assert.deepEqual(await read(990, 5000), bytes.subarray(990), 'end past the size is clamped');
      assert.deepEqual(await read(1000), Buffer.alloc(0), 'start = size');
      assert.deepEqual(await read(1000, 1000), Buffer.alloc(0));
      assert.deepEqual(await read(1500), Buffer.alloc(0), 'start past the size');
      assert.deepEqual(await read(1500, 2000), Buffer.alloc(0));
      await assert.rejects(read(5, 4), RangeError, 'end before start is the caller’s mistake');
      await assert.rejects(read(-1), RangeError);
    });

    test('readTail: the last bytes with the size and etag, for a footer, then a read pinned to that version', async () => {
      const p = fresh();
      const bytes = randomBytes(5000);
      const w = await writeFrom(s, `${p}run`, bytes);
      const tail = await s.readTail(`${p}run`, 16);
      assert.deepEqual(tail.bytes, bytes.subarray(5000 - 16));
      assert.equal(tail.size, 5000);
      assert.equal(tail.etag, w.etag);
      assert.deepEqual(await s.readRange(`${p}run`, { start: 100, end: 200, ifMatch: tail.etag }), bytes.subarray(100, 200));
      assert.deepEqual((await s.readTail(`${p}run`, 10_000)).bytes, bytes, 'more than the size: all of it');
      assert.deepEqual((await s.readTail(`${p}run`, 0)).bytes, Buffer.alloc(0));
      await writeFrom(s, `${p}empty`, new Uint8Array(0));
      assert.deepEqual(await s.readTail(`${p}empty`, 8), { bytes: Buffer.alloc(0), size: 0, etag: (await s.stat(`${p}empty`)).etag });
      await assert.rejects(s.readTail(`${p}nope`, 8), (e) => isReason(e, 'not-found'));
    });

    test('reading, stat-ing a missing object: not-found naming the URI, even for an empty range', async () => {
      const p = fresh();
      for (const run of [() => s.stat(`${p}nope`), () => s.readRange(`${p}nope`), () => s.readRange(`${p}nope`, { start: 0, end: 0 }), () => s.readRange(`${p}nope`, { start: 7 })]) {
        await assert.rejects(run(), (e) => isReason(e, 'not-found') && e.message.includes(s.uri(`${p}nope`)) && e.code === 'TORPEDO_ERR_STORAGE_NOT_FOUND');
      }
      await writeFrom(s, `${p}dir/x`, Buffer.from('x'));
      await assert.rejects(s.stat(`${p}dir`), (e) => isReason(e, 'not-found'), 'a "directory" is no object');
    });

    test('a read of another version than ifMatch is refused as changed', async () => {
      const p = fresh();
      const first = await writeFrom(s, `${p}v`, Buffer.from('version one'));
      assert.equal((await s.readRange(`${p}v`, { ifMatch: first.etag })).toString(), 'version one');
      await new Promise((r) => setTimeout(r, 20));
      await writeFrom(s, `${p}v`, Buffer.from('version two, longer'));
      await assert.rejects(s.readRange(`${p}v`, { ifMatch: first.etag }), (e) => isReason(e, 'changed') && e.code === 'TORPEDO_ERR_INPUT_CHANGED');
    });

    test('a write is not visible until closed, and replaces the old object only then', async () => {
      const p = fresh();
      await writeFrom(s, `${p}old`, Buffer.from('old bytes'));
      const w = s.write(`${p}new`);
      const r = s.write(`${p}old`);
      await w.write(randomBytes(100_000));
      await r.write(Buffer.from('new bytes'));
      await assert.rejects(s.stat(`${p}new`), (e) => isReason(e, 'not-found'));
      assert.deepEqual((await collect(s.list(p))).map((e) => e.key), [`${p}old`], 'nothing of a write in progress is listed');
      assert.equal((await s.readRange(`${p}old`)).toString(), 'old bytes');
      await w.close();
      await r.close();
      assert.equal((await s.stat(`${p}new`)).size, 100_000);
      assert.equal((await s.readRange(`${p}old`)).toString(), 'new bytes');
    });

    test('an aborted write leaves nothing, multipart included, and the object it would replace intact', async () => {
      const p = fresh();
      await writeFrom(s, `${p}keep`, Buffer.from('keep me'));
      for (const key of [`${p}gone`, `${p}keep`]) {
        const w = s.write(key);
        for (let i = 0; i < 7; i++) await w.write(randomBytes(1024 * 1024)); // past one 5 MiB part
        await w.abort();
        await w.abort();
      }
      await assert.rejects(s.stat(`${p}gone`), (e) => isReason(e, 'not-found'));
      assert.equal((await s.readRange(`${p}keep`)).toString(), 'keep me');
      assert.deepEqual((await collect(s.list(p))).map((e) => e.key), [`${p}keep`]);
      if (h.pendingUploads !== undefined) assert.equal(await h.pendingUploads(p), 0, 'no multipart upload left behind');
      const big = randomBytes(11 * 1024 * 1024);
      await writeFrom(s, `${p}big`, chunks(big, 1024 * 1024));
      assert.deepEqual(await s.readRange(`${p}big`), big, 'a multipart write reads back whole');
    });

    test('an abort right after the first write, and a read stopped early, leave nothing running', async () => {
      const p = fresh();
      const w = s.write(`${p}quick`);
      await w.write(Buffer.from('x'));
      await w.abort();
      await assert.rejects(s.stat(`${p}quick`), (e) => isReason(e, 'not-found'));
      const bytes = randomBytes(2 * 1024 * 1024);
      await writeFrom(s, `${p}long`, bytes);
      const stream = s.read(`${p}long`);
      for await (const chunk of stream) {
        assert.ok((chunk as Buffer).length > 0);
        break; // destroys the stream, and the request under it
      }
      assert.deepEqual(await s.readRange(`${p}long`, { start: 1_000_000, end: 1_000_010 }), bytes.subarray(1_000_000, 1_000_010));
    });

    test('a pending write is invisible until completed (from its plain data), then whole', async () => {
      const p = fresh();
      const big = randomBytes(11 * 1024 * 1024 + 5);
      const w = s.writePending(`${p}out/part-r-00000`);
      for (const c of chunks(big, 1024 * 1024)) await w.write(c);
      const pending = JSON.parse(JSON.stringify(await w.close())) as PendingWrite; // as a commit record carries it
      assert.equal(pending.bytes, big.length);
      assert.equal(pending.parts.reduce((n, x) => n + x.bytes, 0), big.length);
      await assert.rejects(s.stat(`${p}out/part-r-00000`), (e) => isReason(e, 'not-found'));
      assert.deepEqual(await collect(s.list(p)), [], 'nothing listed');
      const done = await s.completePending(pending);
      assert.equal(done.size, big.length);
      assert.deepEqual(await s.readRange(`${p}out/part-r-00000`), big);
      const empty = s.writePending(`${p}out/empty`);
      await s.completePending(await empty.close());
      assert.equal((await s.stat(`${p}out/empty`)).size, 0);
    });

    test('pending writes of one key are independent: the one completed is the object, completing it again is done, the others are aborted and listed no more', { skip: o.exempt?.['pending-abort'] ?? false }, async () => {
      const p = fresh();
      const key = `${p}out/part-r-00001`;
      const writes = await Promise.all([0, 1, 2].map(async (i) => {
        const w = s.writePending(key);
        await w.write(Buffer.from(`attempt ${i}`));
        return w.close();
      }));
      const open = s.writePending(`${p}out/part-r-00002`);
      await open.write(Buffer.from('still open'));
      const left = await collect(s.listPending(p));
      assert.equal(left.filter((x) => x.key === key).length, 3, 'all three pending writes are listed');
      await s.completePending(writes[1] as PendingWrite);
      assert.equal((await s.completePending(writes[1] as PendingWrite)).size, 9, 'a completion retried after its reply was lost is done');
      for (const w of [writes[0], writes[2]] as PendingWrite[]) {
        await s.abortPending(w);
        await s.abortPending(w);
      }
      assert.equal((await s.readRange(key)).toString(), 'attempt 1');
      // A writer not yet closed may be listed (a local file, an S3 upload once its first part is sent) or not.
      assert.deepEqual((await collect(s.listPending(p))).map((x) => x.key).filter((k) => k !== `${p}out/part-r-00002`), [], 'the aborted and the completed are gone');
      await open.abort();
      await assert.rejects(s.completePending(writes[0] as PendingWrite), (e) => isReason(e, 'not-found'), 'an aborted write cannot be completed, though the object has its size');
      assert.equal((await s.readRange(key)).toString(), 'attempt 1');
      assert.deepEqual(await collect(s.listPending(p)), []);
    });

    test('createIfAbsent: true once, then false, leaving the first bytes', async () => {
      const p = fresh();
      assert.equal(await s.createIfAbsent(`${p}fence/task-1`, Buffer.from('first')), true);
      assert.equal(await s.createIfAbsent(`${p}fence/task-1`, Buffer.from('second')), false);
      assert.equal((await s.readRange(`${p}fence/task-1`)).toString(), 'first');
      assert.deepEqual((await collect(s.list(`${p}fence/`))).map((e) => e.key), [`${p}fence/task-1`], 'no temporary left');
    });

    test('createIfAbsent races: of concurrent creates exactly one wins, and its bytes stay', { skip: o.exempt?.['atomic-create'] ?? false }, async () => {
      assert.equal(await s.createIfAbsentMode(), 'atomic');
      for (let round = 0; round < 5; round++) {
        const p = fresh();
        const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`attempt ${i}`));
        const won = await Promise.all(bodies.map((b) => s.createIfAbsent(`${p}commit`, b)));
        assert.equal(won.filter(Boolean).length, 1, `exactly one winner: ${JSON.stringify(won)}`);
        assert.equal((await s.readRange(`${p}commit`)).toString(), `attempt ${won.indexOf(true)}`);
      }
    });

    test('createIfAbsentMode: check-then-write where the server does not keep conditional writes', { skip: o.exempt?.['atomic-create'] === undefined ? 'this storage keeps them (the race test)' : false }, async () => {
      assert.equal(await s.createIfAbsentMode(), 'check-then-write');
      assert.deepEqual((await collect(s.list(''))).filter((e) => e.key.startsWith('_torpedo-probe/')), [], 'the probe is removed');
    });

    test('delete: of a missing object is fine; of one removes it', async () => {
      const p = fresh();
      await s.delete(`${p}never-there`);
      await writeFrom(s, `${p}x`, Buffer.from('x'));
      await s.delete(`${p}x`);
      await s.delete(`${p}x`);
      await assert.rejects(s.stat(`${p}x`), (e) => isReason(e, 'not-found'));
    });

    test('malformed keys and prefixes are refused before any request', async () => {
      await assert.rejects(s.stat('/abs'), TypeError);
      await assert.rejects(s.stat('a//b'), TypeError);
      await assert.rejects(s.stat('a/../b'), TypeError);
      await assert.rejects(collect(s.list('no-slash')), TypeError);
      await assert.rejects(s.deletePrefix(''), TypeError);
    });

    test('a read resumed after dropped connections gives the same bytes; one that never progresses fails naming the URI', async (t) => {
      if (h.faulty === undefined) return t.skip('no fault proxy for this storage');
      const { storage, faults, readResumes } = h.faulty;
      const p = fresh();
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      await writeFrom(s, `${p}drop`, bytes);
      const dropped = faults.stats().dropped;
      faults.dropNextAfter(100_000, 3);
      assert.deepEqual(await storage.readRange(`${p}drop`), bytes, 'whole read, three drops');
      faults.dropNextAfter(50_000, 2);
      assert.deepEqual(await storage.readRange(`${p}drop`, { start: 1000, end: 2_000_000 }), bytes.subarray(1000, 2_000_000), 'ranged read, two drops');
      assert.equal(faults.stats().dropped - dropped, 5, 'every drop happened');
      faults.dropNextAfter(0, readResumes + 1);
      await assert.rejects(storage.readRange(`${p}drop`), (e) => isReason(e, 'connection') && e.message.includes(storage.uri(`${p}drop`)) && e.code === 'TORPEDO_ERR_STORAGE_UNAVAILABLE');
      assert.deepEqual(await storage.readRange(`${p}drop`, { start: 5, end: 9 }), bytes.subarray(5, 9), 'all drops used up');
    });

    test('a read whose connection drops after the object changed fails as changed, with no byte of the new version', async (t) => {
      if (h.faulty === undefined) return t.skip('no fault proxy for this storage');
      const { storage, faults } = h.faulty;
      const p = fresh();
      const old = Buffer.alloc(1024 * 1024, 'o');
      await writeFrom(s, `${p}moving`, old);
      faults.dropNextAfter(100_000, 1);
      const got: Buffer[] = [];
      const reading = (async () => {
        for await (const chunk of storage.read(`${p}moving`)) {
          got.push(chunk as Buffer);
          if (got.length === 1) await writeFrom(s, `${p}moving`, Buffer.alloc(1024 * 1024, 'n'));
        }
      })();
      await assert.rejects(reading, (e) => isReason(e, 'changed') && e.message.includes(storage.uri(`${p}moving`)));
      const read = Buffer.concat(got);
      assert.ok(read.length < old.length, 'the read did not finish');
      assert.ok(!read.includes('n'), 'no byte of the new version');
    });

    test('throttling replies are retried with backoff; past every retry, a throttled error naming the URI', async (t) => {
      if (h.faulty === undefined) return t.skip('no fault proxy for this storage');
      const { storage, faults, attempts } = h.faulty;
      const p = fresh();
      await writeFrom(s, `${p}slow`, Buffer.from('patience'));
      const before = faults.stats().throttled;
      faults.throttleNext(2);
      assert.equal((await storage.readRange(`${p}slow`)).toString(), 'patience');
      faults.throttleNext(attempts - 1);
      assert.equal((await storage.stat(`${p}slow`)).size, 8);
      faults.throttleNext(attempts - 1);
      await writeFrom(storage, `${p}written`, Buffer.from('through'));
      assert.equal((await s.readRange(`${p}written`)).toString(), 'through');
      assert.equal(faults.stats().throttled - before, 2 * attempts, 'each throttled reply was retried');
      faults.throttleNext(attempts);
      await assert.rejects(storage.stat(`${p}slow`), (e) => isReason(e, 'throttled') && e.message.includes(storage.uri(`${p}slow`)) && e.code === 'TORPEDO_ERR_STORAGE_UNAVAILABLE');
      assert.equal(faults.stats().throttled - before, 3 * attempts, 'every attempt was made');
    });

    test('a missing bucket, refused credentials, no credentials, no server: clear errors naming the URI, with no secret', async (t) => {
      const f = h.failing;
      if (f === undefined) return t.skip('no failing storages for this implementation');
      const clean = (message: string): void => {
        for (const secret of f.secrets) assert.ok(!message.includes(secret), `no credential in ${JSON.stringify(message)}`);
        assert.doesNotMatch(message, /X-Amz-Signature|Authorization|Credential=/i);
      };
      if (f.missingBucket !== undefined) {
        const { storage, uri } = f.missingBucket;
        for (const run of [() => storage.stat('in/a.txt'), () => storage.readRange('in/a.txt'), () => collect(storage.list('in/')), () => writeFrom(storage, 'out/x', Buffer.from('x'))]) {
          await assert.rejects(run(), (e) => isReason(e, 'no-bucket') && e.message.includes(uri) && (clean(e.message), true));
        }
      }
      if (f.badCredentials !== undefined) {
        const w = f.badCredentials;
        for (const run of [() => w.stat('in/a.txt'), () => collect(w.list('in/')), () => writeFrom(w, 'out/x', Buffer.from('x'))]) {
          await assert.rejects(run(), (e) => isReason(e, 'access-denied') && e.message.includes('s3://') && e.code === 'TORPEDO_ERR_STORAGE_DENIED' && (clean(e.message), clean(JSON.stringify(e)), clean(String(e.stack)), true));
        }
      }
      if (f.unreachable !== undefined) {
        const u = f.unreachable;
        for (const run of [() => u.stat('in/a.txt'), () => u.readRange('in/a.txt'), () => writeFrom(u, 'out/x', Buffer.from('x'))]) {
          await assert.rejects(run(), (e) => isReason(e, 'connection') && e.message.includes('s3://') && /ECONNREFUSED/.test(e.message) && (clean(e.message), true));
        }
      }
      for (const c of f.inChild ?? []) {
        const e = await c.run();
        assert.equal(e.reason, c.reason, `${c.what}: ${e.message}`);
        assert.equal(e.code, 'TORPEDO_ERR_STORAGE_DENIED');
        assert.match(e.message, /s3:\/\/\S+/);
        clean(e.message);
      }
    });
  });
}

function isReason(e: unknown, reason: StorageErrorReason): e is Error & { code: string } {
  if (!isStorageError(e, reason)) {
    assert.fail(`expected a StorageError '${reason}', got ${e instanceof Error ? `${e.name} ${(e as { reason?: string }).reason ?? ''}: ${e.message}` : String(e)}`);
  }
  return true;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function inParallel<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}
