// The Storage conformance suite (test/support/storage-conformance.ts) against every
// implementation: a local directory, and S3Storage on each S3 server that runs here, on loopback.
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isHiddenKey, listVisible, LocalStorage, S3Storage, type S3StorageOptions } from '../src/storage/index.ts';
import { removeDir, tempDir } from './helpers.ts';
import { errorInChild } from './support/storage-child-error.ts';
import { startFaultProxy } from './support/s3-fault-proxy.ts';
import { s3ClientFor, s3ServerKinds, startS3Server, type S3ServerKind } from './support/s3-server.ts';
import { describeStorageConformance, type Clause } from './support/storage-conformance.ts';

describeStorageConformance('local directory', async () => {
  const dir = tempDir('torpedo-storage-');
  return { storage: new LocalStorage(dir), close: async () => removeDir(dir) };
});

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What each S3 server here does not keep (docs/storage.md has the table). */
const EXEMPT: Record<S3ServerKind, Partial<Record<Clause, string>>> = {
  radosgw: {},
  s3rver: {
    'atomic-create': 's3rver ignores If-None-Match: createIfAbsent is check-then-write there',
    'key-order': 's3rver lists a/b before a-b (its keys are files in directories)',
    'pending-abort': 's3rver has no ListMultipartUploads nor ListParts, answers AbortMultipartUpload MethodNotAllowed, and its multipart ETags lack the -N that tells a completed upload',
    'paged-listing': "s3rver's continuation tokens need a cipher Node 20 has only with --openssl-legacy-provider (a 500 on every truncated listing)",
  },
};

for (const kind of s3ServerKinds()) {
  describeStorageConformance(`S3 (${kind})`, async () => {
    const server = await startS3Server({ kind });
    const bucket = 'conformance';
    await server.createBucket(bucket);
    const base: Omit<S3StorageOptions, 'bucket'> = {
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      pageSize: 100,
      partSize: 5 * 1024 * 1024,
    };
    const storage = new S3Storage({ bucket, ...base });
    // s3rver checks no signature: a key it does not know is what it refuses.
    const refused = kind === 's3rver' ? { accessKeyId: 'UNKNOWNKEY0000000000', secretAccessKey: server.secretAccessKey } : { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong-secret-0123456789' };
    const missing = new S3Storage({ bucket: 'no-such-bucket', ...base });
    const badCredentials = new S3Storage({ bucket, ...base, credentials: refused, maxAttempts: 2 });
    const admin = s3ClientFor(server);
    const proxy = await startFaultProxy(server.endpoint);
    const attempts = 4;
    const readResumes = 3;
    const faulty = new S3Storage({ bucket, ...base, endpoint: proxy.endpoint, maxAttempts: attempts, readResumes });
    const closed = await closedPort();
    const unreachable = new S3Storage({ bucket, ...base, endpoint: `http://127.0.0.1:${closed}`, maxAttempts: 2 });
    return {
      storage,
      faulty: { storage: faulty, faults: proxy, attempts, readResumes },
      failing: {
        missingBucket: { storage: missing, uri: 's3://no-such-bucket/' },
        badCredentials,
        unreachable,
        inChild: [
          { what: 'no credentials anywhere', reason: 'no-credentials', run: () => errorInChild(server.endpoint, `s3://${bucket}/in/a.txt`) },
          { what: 'refused credentials in the environment', reason: 'access-denied', run: () => errorInChild(server.endpoint, `s3://${bucket}/in/a.txt`, { AWS_ACCESS_KEY_ID: refused.accessKeyId, AWS_SECRET_ACCESS_KEY: refused.secretAccessKey }) },
        ],
        secrets: [server.secretAccessKey, refused.secretAccessKey, ...(kind === 's3rver' ? [refused.accessKeyId] : [server.accessKeyId])],
      },
      // s3rver has no ListMultipartUploads (NotImplemented).
      ...(kind === 's3rver' ? {} : { pendingUploads: async (prefix: string) => (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads?.length ?? 0 }),
      close: async () => {
        for (const s of [storage, faulty, missing, badCredentials, unreachable]) s.destroy();
        admin.destroy();
        await proxy.stop();
        await server.stop();
      },
    };
  }, { exempt: EXEMPT[kind] });
}

test('isHiddenKey: a name past the prefix starting with _ or . is hidden, the prefix itself is not looked at', () => {
  assert.equal(isHiddenKey('in/_SUCCESS', 'in/'), true);
  assert.equal(isHiddenKey('in/.part.crc', 'in/'), true);
  assert.equal(isHiddenKey('in/_temporary/0/part', 'in/'), true);
  assert.equal(isHiddenKey('_in/a.txt', '_in/'), false);
  assert.equal(isHiddenKey('in/a_b.txt', 'in/'), false);
});


test('listVisible skips hidden names at any depth, as input listings do', async () => {
  const dir = tempDir('torpedo-storage-');
  try {
    const s = new LocalStorage(dir);
    for (const k of ['in/a.txt', 'in/_SUCCESS', 'in/.a.txt.crc', 'in/_temporary/0/part', 'in/sub/b.txt', 'in/sub/.hidden/c.txt']) await s.createIfAbsent(k, Buffer.from(k));
    const keys: string[] = [];
    for await (const e of listVisible(s, 'in/')) keys.push(e.key);
    assert.deepEqual(keys, ['in/a.txt', 'in/sub/b.txt']);
  } finally {
    removeDir(dir);
  }
});
