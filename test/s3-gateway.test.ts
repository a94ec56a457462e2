// The storage gateway (src/storage/s3-gateway.ts) against a real S3 server on loopback: a client
// with throwaway keys, as a sandboxed worker has, reaches exactly its grants — its input's
// objects to read, its output's prefix to write — and nothing else, whatever it asks.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startS3Gateway, type S3Gateway } from '../src/storage/s3-gateway.ts';
import { decide, type GatewayGrants } from '../src/storage/s3-gateway-policy.ts';
import { s3ClientFor, s3ServerKinds, startS3Server, type S3Server } from './support/s3-server.ts';

const GRANTS: GatewayGrants = {
  read: [{ bucket: 'inputs', key: 'logs/a.txt' }],
  write: [{ bucket: 'outputs', prefix: 'job1/' }],
};

/** A client as a worker's: path-style, keys that sign nothing the store would take. */
function workerClient(o: { endpoint: string; requestHandler?: NodeHttpHandler }): S3Client {
  return new S3Client({
    endpoint: o.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'torpedo-worker', secretAccessKey: 'not-a-secret' },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...(o.requestHandler !== undefined ? { requestHandler: o.requestHandler } : {}),
  });
}

async function text(client: S3Client, bucket: string, key: string, range?: string): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range !== undefined ? { Range: range } : {}) }));
  return await res.Body!.transformToString();
}

async function refused(p: Promise<unknown>, status = 403): Promise<string> {
  const e = await p.then(
    () => assert.fail('the gateway let it through'),
    (e: unknown) => e as { $metadata?: { httpStatusCode?: number }; message: string },
  );
  assert.equal(e.$metadata?.httpStatusCode, status, e.message);
  return e.message;
}

for (const kind of s3ServerKinds()) {
  describe(`the storage gateway in front of ${kind}`, () => {
    let server: S3Server;
    let direct: S3Client;
    let gateway: S3Gateway;
    let worker: S3Client;
    const dir = mkdtempSync(join(tmpdir(), 'torpedo-gateway-'));

    before(async () => {
      server = await startS3Server({ kind });
      for (const b of ['inputs', 'outputs', 'other']) await server.createBucket(b);
      direct = s3ClientFor(server);
      for (const [b, k, body] of [
        ['inputs', 'logs/a.txt', 'alpha beta\ngamma\n'],
        ['inputs', 'logs/b.txt', 'not this job\'s'],
        ['other', 'secret.txt', 'someone else\'s'],
        ['outputs', 'job2/part-r-00000', 'another job\'s output'],
      ] as const) {
        await direct.send(new PutObjectCommand({ Bucket: b, Key: k, Body: body }));
      }
      gateway = await startS3Gateway({
        listen: { port: 0 },
        endpoint: server.endpoint,
        region: server.region,
        credentials: async () => ({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }),
        grants: GRANTS,
      });
      worker = workerClient({ endpoint: gateway.address });
    });
    after(async () => {
      worker?.destroy();
      direct?.destroy();
      await gateway?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads an input object, whole and by range, re-signed with the real keys', async () => {
      assert.equal(await text(worker, 'inputs', 'logs/a.txt'), 'alpha beta\ngamma\n');
      assert.equal(await text(worker, 'inputs', 'logs/a.txt', 'bytes=6-9'), 'beta');
    });

    it("refuses objects outside the grants: another input, another bucket, another job's output", async () => {
      assert.match(await refused(text(worker, 'inputs', 'logs/b.txt')), /may not read s3:\/\/inputs\/logs\/b\.txt/);
      await refused(text(worker, 'other', 'secret.txt'));
      await refused(text(worker, 'outputs', 'job2/part-r-00000'));
    });

    it('writes under the output prefix, in one PUT and as a multipart upload, and reads it back', async () => {
      await worker.send(new PutObjectCommand({ Bucket: 'outputs', Key: 'job1/_temporary/a', Body: 'one' }));
      assert.equal(await text(direct, 'outputs', 'job1/_temporary/a'), 'one');
      const big = Buffer.alloc(12 * 2 ** 20 + 123, 'xyz');
      await new Upload({ client: worker, params: { Bucket: 'outputs', Key: 'job1/part-r-00000', Body: big }, partSize: 5 * 2 ** 20 }).done();
      const back = await direct.send(new GetObjectCommand({ Bucket: 'outputs', Key: 'job1/part-r-00000' }));
      assert.ok(Buffer.from(await back.Body!.transformToByteArray()).equals(big));
      const listed = await worker.send(new ListObjectsV2Command({ Bucket: 'outputs', Prefix: 'job1/' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['job1/_temporary/a', 'job1/part-r-00000']);
    });

    it('refuses writes to inputs and elsewhere, listings past the grants, copies and batch deletes', async () => {
      await refused(worker.send(new PutObjectCommand({ Bucket: 'inputs', Key: 'logs/a.txt', Body: 'overwritten' })));
      await refused(worker.send(new PutObjectCommand({ Bucket: 'outputs', Key: 'job2/part-r-00000', Body: 'overwritten' })));
      await refused(worker.send(new PutObjectCommand({ Bucket: 'outputs', Key: 'job1x', Body: 'beside the prefix' })));
      await refused(worker.send(new ListObjectsV2Command({ Bucket: 'outputs' })));
      await refused(worker.send(new ListObjectsV2Command({ Bucket: 'inputs', Prefix: 'logs/' })));
      assert.match(await refused(worker.send(new CopyObjectCommand({ Bucket: 'outputs', Key: 'job1/stolen', CopySource: 'other/secret.txt' }))), /copies/);
      await refused(worker.send(new DeleteObjectsCommand({ Bucket: 'outputs', Delete: { Objects: [{ Key: 'job2/part-r-00000' }] } })));
      assert.equal(await text(direct, 'inputs', 'logs/a.txt'), 'alpha beta\ngamma\n');
      assert.equal(await text(direct, 'outputs', 'job2/part-r-00000'), "another job's output");
      assert.ok(gateway.stats().refused >= 8);
    });

    it('serves a worker over a Unix socket, as inside the sandbox', async () => {
      const socket = join(dir, 's3.sock');
      const local = await startS3Gateway({
        listen: socket,
        endpoint: server.endpoint,
        region: server.region,
        credentials: async () => ({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }),
        grants: GRANTS,
      });
      const agent = new Agent({ keepAlive: true });
      (agent as unknown as { createConnection: () => unknown }).createConnection = () => connect(socket);
      const client = workerClient({ endpoint: 'http://torpedo-gateway', requestHandler: new NodeHttpHandler({ httpAgent: agent }) });
      try {
        assert.equal(await text(client, 'inputs', 'logs/a.txt'), 'alpha beta\ngamma\n');
        await refused(text(client, 'other', 'secret.txt'));
      } finally {
        client.destroy();
        await local.close();
      }
    });

    it('holds no credential the worker could use: with wrong real keys the store refuses', async () => {
      const wrong = await startS3Gateway({
        listen: { port: 0 },
        endpoint: server.endpoint,
        region: server.region,
        credentials: async () => ({ accessKeyId: server.accessKeyId, secretAccessKey: 'wrong' }),
        grants: GRANTS,
      });
      const client = workerClient({ endpoint: wrong.address });
      try {
        // s3rver checks no signature: only a real server refuses.
        if (kind === 'radosgw') await refused(text(client, 'inputs', 'logs/a.txt'));
      } finally {
        client.destroy();
        await wrong.close();
      }
    });
  });
}

describe('the storage gateway policy', () => {
  const ask = (method: string, url: string, headers: Record<string, string> = {}) => {
    const u = new URL(url, 'http://gateway');
    return decide(method, u.pathname, u.searchParams, headers, GRANTS);
  };
  it('refuses keys with dot segments, sub-resources and bucket calls', () => {
    assert.equal(ask('GET', '/inputs/logs/a.txt').allowed, true);
    assert.equal(ask('GET', '/inputs/logs/a.txt?x-id=GetObject').allowed, true);
    assert.equal(ask('GET', '/outputs/job1/..%2F..%2Fjob2/part-r-00000').allowed, false);
    // Dot segments the URL parser resolves are resolved before the check, and what is checked is what is sent.
    assert.equal(ask('PUT', '/outputs/job1/../job2/x').allowed, false);
    assert.equal(ask('PUT', '/outputs/job1/%2e%2e/job2/x').allowed, false);
    assert.equal(ask('GET', '/inputs/logs/a.txt?acl').allowed, false);
    assert.equal(ask('PUT', '/outputs/job1/x?tagging').allowed, false);
    assert.equal(ask('GET', '/inputs/logs/a.txt?versionId=1').allowed, false);
    assert.equal(ask('PUT', '/outputs').allowed, false);
    assert.equal(ask('DELETE', '/outputs').allowed, false);
    assert.equal(ask('GET', '/').allowed, false);
    assert.equal(ask('POST', '/outputs/job1/x').allowed, false);
    assert.equal(ask('POST', '/outputs/job1/x?uploads').allowed, true);
    assert.equal(ask('PUT', '/outputs/job1/x?partNumber=1&uploadId=u', { 'x-amz-copy-source': '/other/secret.txt' }).allowed, false);
    assert.equal(ask('GET', '/inputs/logs/a.txt?uploadId=u').allowed, false);
    assert.equal(ask('HEAD', '/outputs/job1/x').allowed, true);
    assert.equal(ask('PATCH', '/outputs/job1/x').allowed, false);
  });
});
