// The S3 servers the storage tests run against (test/support/s3-server.ts), and the fault proxy
// in front of them (test/support/s3-fault-proxy.ts), seen through @aws-sdk/client-s3 as torpedo
// configures it. Each kind that can run here is checked; where the kinds differ (conditional
// writes, small multipart parts) the test asserts what each one really does, as
// docs/s3-test-server.md reports.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startFaultProxy, type FaultProxy } from './support/s3-fault-proxy.ts';
import { s3ClientFor, s3ServerKinds, startS3Server, type S3Server } from './support/s3-server.ts';

/** The HTTP status and error name of a failed SDK call (throws if the call succeeded). */
async function failure(p: Promise<unknown>): Promise<{ status: number | undefined; name: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, name: e.name };
  }
  throw new Error('expected the call to fail, and it succeeded');
}

async function getText(client: S3Client, bucket: string, key: string, range?: string): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return r.Body!.transformToString();
}

async function listAll(client: S3Client, bucket: string, prefix: string, maxKeys?: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: maxKeys, ContinuationToken: token }));
    pages++;
    keys.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { keys, pages };
}

for (const kind of s3ServerKinds()) {
  describe(`S3 test server: ${kind}`, () => {
    let server: S3Server;
    let client: S3Client;
    const bucket = 'torpedo-test';

    before(async () => {
      server = await startS3Server({ kind });
      client = s3ClientFor(server);
      await server.createBucket(bucket);
    });
    after(async () => {
      client?.destroy();
      await server?.stop();
    });

    test('put, get, and a ranged get', async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/hello.txt', Body: '0123456789abcdefghij' }));
      assert.equal(await getText(client, bucket, 'a/hello.txt'), '0123456789abcdefghij');
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/hello.txt', Range: 'bytes=10-14' }));
      assert.equal(r.$metadata.httpStatusCode, 206);
      assert.equal(r.ContentRange, 'bytes 10-14/20');
      assert.equal(await r.Body!.transformToString(), 'abcde');
      // A suffix range (the last 3 bytes): s3rver reads it as bytes=0-3.
      assert.equal(await getText(client, bucket, 'a/hello.txt', 'bytes=-3'), kind === 'radosgw' ? 'hij' : '0123');
      assert.deepEqual(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/hello.txt', Range: 'bytes=20-30' }))), { status: 416, name: 'InvalidRange' });
      assert.deepEqual(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/missing' }))), { status: 404, name: 'NoSuchKey' });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/empty', Body: Buffer.alloc(0) }));
      const emptyRange = () => client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/empty', Range: 'bytes=0-9' }));
      if (kind === 'radosgw') {
        assert.deepEqual(await failure(emptyRange()), { status: 416, name: 'InvalidRange' });
      } else {
        const r = await emptyRange(); // s3rver: 206, 'bytes 0-0/0', Content-Length 1, no body
        assert.equal(r.$metadata.httpStatusCode, 206);
        assert.equal(r.ContentRange, 'bytes 0-0/0');
      }
    });

    test('creating a bucket that exists (and is ours)', async () => {
      const again = () => server.createBucket(bucket);
      if (kind === 'radosgw') await again(); // 200, as S3 answers in us-east-1
      else assert.deepEqual(await failure(again()), { status: 409, name: 'BucketAlreadyExists' });
      assert.deepEqual(await failure(client.send(new PutObjectCommand({ Bucket: 'torpedo-no-such-bucket', Key: 'k', Body: 'x' }))), { status: 404, name: 'NoSuchBucket' });
    });

    test('a listing past 1,000 keys is paginated', async () => {
      const keys = Array.from({ length: 1001 }, (_, i) => `list/k${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 32) {
        await Promise.all(keys.slice(i, i + 32).map((Key) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))));
      }
      // The default page is 1,000 keys: 1,001 take two pages, in key order.
      const first = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
      assert.equal(first.KeyCount, 1000);
      assert.equal(first.IsTruncated, true);
      assert.deepEqual(await listAll(client, bucket, 'list/'), { keys, pages: 2 });
      assert.deepEqual(await listAll(client, bucket, 'list/', 300), { keys, pages: 4 });
      // MaxKeys above 1,000 is capped at 1,000.
      const capped = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 5000 }));
      assert.equal(capped.KeyCount, 1000);
      const after = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', StartAfter: keys[997] }));
      assert.deepEqual(after.Contents?.map((o) => o.Key), keys.slice(998));
      const dirs = await client.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
      assert.deepEqual(dirs.CommonPrefixes?.map((p) => p.Prefix).sort(), ['a/', 'list/']);
    });

    test('a multipart upload (lib-storage Upload) reads back whole', async () => {
      const body = randomBytes(11 * 1024 * 1024 + 123);
      const upload = new Upload({ client, params: { Bucket: bucket, Key: 'mp/big.bin', Body: body }, partSize: 5 * 1024 * 1024, queueSize: 2 });
      const done = await upload.done();
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp/big.bin' }));
      if (kind === 'radosgw') {
        // radosgw 16 answers CompleteMultipartUpload with an empty <ETag></ETag>; HEAD has S3's
        // multipart ETag (the MD5 of the parts' MD5s, dash, the number of parts).
        assert.equal(done.ETag, '');
        assert.match(head.ETag ?? '', /^"[0-9a-f]{32}-3"$/);
      } else {
        // s3rver's multipart ETag is the MD5 of the whole object, with no part count.
        assert.equal(head.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
        assert.equal(done.ETag, head.ETag);
      }
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/big.bin' }));
      assert.equal(r.ContentLength, body.length);
      const got = Buffer.from(await r.Body!.transformToByteArray());
      assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(body).digest('hex'));
    });

    test('a part under 5 MiB that is not the last', async () => {
      const key = 'mp/small-parts.bin';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const parts = [];
      for (const PartNumber of [1, 2]) {
        const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: Buffer.alloc(1024, PartNumber) }));
        parts.push({ ETag: r.ETag, PartNumber });
      }
      const complete = client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      if (kind === 'radosgw') {
        // As S3 does: EntityTooSmall (400) at completion.
        assert.deepEqual(await failure(complete), { status: 400, name: 'EntityTooSmall' });
      } else {
        // s3rver does not check part sizes: the object is made.
        await complete;
        assert.equal((await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).ContentLength, 2048);
      }
    });

    test('multipart bookkeeping: list, abort, a wrong part ETag, If-None-Match on completion', async () => {
      const key = 'mp/books';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }));
      const list = () => client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'mp/books' }));
      const abort = () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
      const wrongPart = () =>
        client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }] } }));
      if (kind === 'radosgw') {
        assert.deepEqual((await list()).Uploads?.map((u) => u.UploadId), [UploadId]);
        assert.deepEqual(await failure(wrongPart()), { status: 400, name: 'InvalidPart' });
        assert.equal((await abort()).$metadata.httpStatusCode, 204);
        assert.equal((await list()).Uploads, undefined);
      } else {
        assert.deepEqual(await failure(list()), { status: 501, name: 'NotImplemented' });
        assert.deepEqual(await failure(abort()), { status: 405, name: 'MethodNotAllowed' });
        await wrongPart(); // s3rver does not check the parts' ETags
      }
      // If-None-Match: '*' on CompleteMultipartUpload: neither server honours it.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp/exists', Body: 'before' }));
      const m = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/exists' }));
      const p = await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp/exists', UploadId: m.UploadId, PartNumber: 1, Body: 'after' }));
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp/exists', UploadId: m.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }),
      );
      assert.equal(await getText(client, bucket, 'mp/exists'), 'after');
    });

    test('conditional GETs', async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/get', Body: 'body' }));
      const { ETag } = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond/get' }));
      assert.equal((await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond/get', IfNoneMatch: ETag })))).status, 304);
      const wrong = client.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond/get', IfMatch: '"0123456789abcdef0123456789abcdef"' }));
      if (kind === 'radosgw') assert.deepEqual(await failure(wrong), { status: 412, name: 'PreconditionFailed' });
      else assert.equal(await (await wrong).Body!.transformToString(), 'body'); // s3rver ignores If-Match on GET
    });

    test('keys with spaces, +, non-ASCII, ?, & and a double slash', async () => {
      const keys = ['odd/sp ace', 'odd/plus+sign', 'odd/uni-é-日本', 'odd/q?x=1&y'];
      for (const Key of keys) await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
      const slashes = () => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'odd/a//b', Body: 'x' }));
      if (kind === 'radosgw') {
        await slashes();
        keys.push('odd/a//b');
      } else {
        assert.equal((await failure(slashes())).status, 404); // s3rver cannot store a key with '//'
      }
      assert.deepEqual((await listAll(client, bucket, 'odd/')).keys, [...keys].sort());
      for (const Key of keys) if (Key !== 'odd/a//b') assert.equal(await getText(client, bucket, Key), Key);
    });

    test("a conditional create (If-None-Match: '*')", async () => {
      const key = 'cond/once';
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
      const second = client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
      if (kind === 'radosgw') {
        assert.deepEqual(await failure(second), { status: 412, name: 'PreconditionFailed' });
        assert.equal(await getText(client, bucket, key), 'first');
      } else {
        // s3rver ignores If-None-Match on PUT: the second write replaces the first.
        await second;
        assert.equal(await getText(client, bucket, key), 'second');
      }
    });

    test('eight conditional creates of one key at once', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/race', Body: `writer ${i}`, IfNoneMatch: '*' }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled').length;
      if (kind === 'radosgw') {
        assert.equal(won, 1);
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 412);
      } else {
        assert.equal(won, 8);
      }
    });

    test('a conditional overwrite (If-Match)', async () => {
      const key = 'cond/match';
      const first = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'one' }));
      assert.match(first.ETag ?? '', /^"[0-9a-f]{32}"$/);
      const quoted = () => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'two', IfMatch: first.ETag }));
      const missing = () => client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond/none', Body: 'x', IfMatch: '*' }));
      if (kind === 'radosgw') {
        // radosgw 16 compares If-Match with the ETag unquoted: the quoted ETag (as S3 returns and
        // takes it) never matches; the bare hex digest does.
        assert.deepEqual(await failure(quoted()), { status: 412, name: 'PreconditionFailed' });
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'two', IfMatch: first.ETag!.replaceAll('"', '') }));
        assert.deepEqual(await failure(client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'three', IfMatch: first.ETag!.replaceAll('"', '') }))), { status: 412, name: 'PreconditionFailed' });
        assert.deepEqual(await failure(missing()), { status: 412, name: 'PreconditionFailed' });
        assert.equal(await getText(client, bucket, key), 'two');
      } else {
        // s3rver ignores If-Match on PUT.
        await quoted();
        await missing();
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'three', IfMatch: '"0123456789abcdef0123456789abcdef"' }));
        assert.equal(await getText(client, bucket, key), 'three');
      }
    });

    test('a wrong Content-MD5, a wrong CRC32', async () => {
      const md5 = client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sum/md5', Body: 'abc', ContentMD5: '1B2M2Y8AsgTpgAmY7PhCfg==' }));
      if (kind === 'radosgw') assert.deepEqual(await failure(md5), { status: 400, name: 'BadDigest' });
      else await md5; // s3rver does not check Content-MD5
      // Neither checks x-amz-checksum-crc32 (radosgw 16 predates the flexible checksums).
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sum/crc', Body: 'abc', ChecksumCRC32: 'AAAAAA==' }));
      assert.equal(await getText(client, bucket, 'sum/crc'), 'abc');
    });

    test('DeleteObjects, and deleting a missing key', async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'del/one', Body: '1' }));
      const r = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/one' }, { Key: 'del/never' }] } }));
      assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), ['del/never', 'del/one']);
      assert.equal((await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/never' }))).$metadata.httpStatusCode, 204);
      assert.deepEqual(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'del/one' }))), { status: 404, name: 'NoSuchKey' });
    });

    test('a wrong secret, an unknown key', async () => {
      const wrong = s3ClientFor(server, { secretAccessKey: `${server.secretAccessKey}x` });
      try {
        const get = wrong.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/hello.txt' }));
        const put = () => wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/forged', Body: 'x' }));
        if (kind === 'radosgw') {
          assert.deepEqual(await failure(get), { status: 403, name: 'SignatureDoesNotMatch' });
          assert.deepEqual(await failure(put()), { status: 403, name: 'SignatureDoesNotMatch' });
          assert.deepEqual(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/forged' }))), { status: 404, name: 'NoSuchKey' });
        } else {
          // s3rver checks the access key but not SigV4 signatures: a wrong secret reads and writes.
          await get;
          await put();
          assert.equal(await getText(client, bucket, 'a/forged'), 'x');
        }
      } finally {
        wrong.destroy();
      }
      const unknown = s3ClientFor({ ...server, accessKeyId: 'TORPEDONOSUCHKEY' });
      try {
        assert.deepEqual(await failure(unknown.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/hello.txt' }))), { status: 403, name: 'InvalidAccessKeyId' });
      } finally {
        unknown.destroy();
      }
    });

    test('two servers started at once are distinct', async () => {
      const [one, two] = await Promise.all([startS3Server({ kind }), startS3Server({ kind })]);
      try {
        assert.notEqual(one.endpoint, two.endpoint);
        await one.createBucket('only-in-one');
        const c2 = s3ClientFor(two);
        try {
          assert.equal((await failure(c2.send(new ListObjectsV2Command({ Bucket: 'only-in-one' })))).status, 404);
        } finally {
          c2.destroy();
        }
      } finally {
        await Promise.all([one.stop(), two.stop()]);
      }
    });

    describe('through the fault proxy', () => {
      let proxy: FaultProxy;
      let viaProxy: S3Client;
      before(async () => {
        proxy = await startFaultProxy(server.endpoint);
        viaProxy = s3ClientFor(server, { endpoint: proxy.endpoint });
      });
      after(async () => {
        viaProxy?.destroy();
        await proxy?.stop();
      });

      test('signed requests pass through, and are counted', async () => {
        proxy.resetStats();
        const body = randomBytes(100_000);
        await viaProxy.send(new PutObjectCommand({ Bucket: bucket, Key: 'proxy/blob', Body: body }));
        const got = await viaProxy.send(new GetObjectCommand({ Bucket: bucket, Key: 'proxy/blob' }));
        assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
        const { byMethod } = proxy.stats();
        assert.deepEqual(byMethod.PUT, { requests: 1, bytesUp: body.length, bytesDown: 0 });
        assert.deepEqual(byMethod.GET, { requests: 1, bytesUp: 0, bytesDown: body.length });
      });

      test('503 SlowDown: the SDK retries it, and gives up after its attempts', async () => {
        proxy.resetStats();
        proxy.throttleNext(2, (r) => r.method === 'GET' && r.path.includes('/proxy/blob'));
        const got = await viaProxy.send(new GetObjectCommand({ Bucket: bucket, Key: 'proxy/blob' }));
        assert.equal(got.$metadata.attempts, 3);
        await got.Body!.transformToByteArray();
        assert.equal(proxy.stats().throttled, 2);
        assert.equal(proxy.stats().byMethod.GET?.requests, 3);

        const once = s3ClientFor(server, { endpoint: proxy.endpoint, maxAttempts: 1 });
        try {
          proxy.throttleNext(1, (r) => r.method === 'PUT');
          assert.deepEqual(await failure(once.send(new PutObjectCommand({ Bucket: bucket, Key: 'proxy/put', Body: randomBytes(10_000) }))), { status: 503, name: 'SlowDown' });
          await once.send(new PutObjectCommand({ Bucket: bucket, Key: 'proxy/put', Body: 'now' }));
          assert.equal(await getText(once, bucket, 'proxy/put'), 'now');
        } finally {
          once.destroy();
        }
      });

      test("a GET's connection cut mid-body fails the read, and the next GET is whole", async () => {
        proxy.resetStats();
        proxy.dropNextAfter(30_000, 1, (r) => r.path.includes('/proxy/blob'));
        const got = await viaProxy.send(new GetObjectCommand({ Bucket: bucket, Key: 'proxy/blob' }));
        assert.equal(got.ContentLength, 100_000);
        await assert.rejects(got.Body!.transformToByteArray());
        assert.equal(proxy.stats().dropped, 1);
        assert.equal(proxy.stats().byMethod.GET?.bytesDown, 30_000);
        const again = await viaProxy.send(new GetObjectCommand({ Bucket: bucket, Key: 'proxy/blob' }));
        assert.equal((await again.Body!.transformToByteArray()).length, 100_000);
      });
    });
  });
}
