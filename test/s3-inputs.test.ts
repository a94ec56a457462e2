// Inputs in S3, end to end: the real CLI plans splits from a bucket's listing and sandboxed
// workers read them with ranged GETs through the job's storage gateway (they have no network
// and no credentials), with every codec, and give exactly the part files of the same data read
// from a local directory. Against a real S3 server on loopback (test/support/s3-server.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jsonSummary, prose, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { startFaultProxy } from './support/s3-fault-proxy.ts';
import { s3ClientFor, startS3Server, type S3Server } from './support/s3-server.ts';

function listFiles(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(d, e.name)) : [join(d, e.name)]));
}

function compress(tool: string, data: Buffer, args: string[] = []): Buffer {
  return execFileSync(tool, [...args, '-c'], { input: data, maxBuffer: 1 << 30 });
}

describe('inputs in S3', () => {
  let dir: string;
  let server: S3Server;
  let client: S3Client;
  const files: Record<string, Buffer> = {};
  let localTasks = 0;

  const run = (args: readonly string[], env: NodeJS.ProcessEnv = server.env()) => runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 180_000, env });

  before(async () => {
    dir = tempDir('torpedo-s3-inputs-');
    server = await startS3Server();
    await server.createBucket('logs');
    client = s3ClientFor(server);
    const text = Buffer.from(prose(40_000));
    const half = text.indexOf('\n', text.length >> 1) + 1;
    Object.assign(files, {
      'a.txt': text.subarray(0, half),
      'b.txt.gz': compress('gzip', text.subarray(half)),
      // Blocks of 100 kB, so that 64 KB splits cut it at many blocks.
      'c.bz2': compress('bzip2', text, ['-1']),
      'd.zst': compress('zstd', text.subarray(0, 5000)),
    });
    mkdirSync(join(dir, 'local'));
    for (const [name, data] of Object.entries(files)) {
      writeFileSync(join(dir, 'local', name), data);
      await client.send(new PutObjectCommand({ Bucket: 'logs', Key: `2026/${name}`, Body: data }));
    }
    // Hidden by Hadoop's rule, as in a directory.
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: '2026/_SUCCESS', Body: 'not input' }));
    await client.send(new PutObjectCommand({ Bucket: 'logs', Key: '2026/.part.tmp', Body: 'not input' }));
    // What every run on the objects must give: the same files read from a local directory.
    const local = await run(['wordcount', '--input', join(dir, 'local'), '--output', join(dir, 'out-local'), '--reducers', '2', '--split-size', '64KB']);
    assert.equal(local.code, 0, local.stderr);
    localTasks = jsonSummary(local).phases.map.tasks;
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    removeDir(dir);
  });

  test('a prefix of objects with every codec gives the part files of the same files read locally', async () => {
    const out = join(dir, 'out-s3');
    const r = await run(['wordcount', '--input', 's3://logs/2026/', '--output', out, '--reducers', '2', '--split-size', '64KB']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readParts(out), readParts(join(dir, 'out-local')));
    const s = jsonSummary(r);
    assert.equal(s.phases.map.tasks, localTasks, 'the same splits: the bzip2 object cut at its blocks');
    assert.ok(s.phases.map.tasks >= 6, `${s.phases.map.tasks} map tasks`);
    // No credential in anything the job keeps (its logs, its manifest, its parts) or prints.
    const kept = listFiles(out).map((f) => readFileSync(f, 'latin1')).join('\n') + r.stdout + r.stderr;
    assert.ok(!kept.includes(server.secretAccessKey) && !kept.includes(server.accessKeyId), 'a credential in job.json or the output');
  });

  test('objects and local files mix; one object by its key', async () => {
    const out = join(dir, 'out-mixed');
    const r = await run(['wordcount', '--input', 's3://logs/2026/a.txt', join(dir, 'local', 'b.txt.gz'), '--output', out, '--reducers', '1']);
    assert.equal(r.code, 0, r.stderr);
    const both = await run(['wordcount', '--input', join(dir, 'local', 'a.txt'), join(dir, 'local', 'b.txt.gz'), '--output', join(dir, 'out-both'), '--reducers', '1']);
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(readParts(out), readParts(join(dir, 'out-both')));
  });

  test('a dropped connection mid-read and throttling replies are retried: the same part files', async () => {
    const proxy = await startFaultProxy(server.endpoint);
    try {
      const bz2 = ({ method, path }: { method: string; path: string }): boolean => method === 'GET' && path.includes('c.bz2');
      // Cut three reads of the bzip2 object 4 kB in, and throttle three reads of another object.
      proxy.dropNextAfter(4096, 3, bz2);
      proxy.throttleNext(3, ({ method, path }) => method === 'GET' && path.includes('a.txt'));
      const out = join(dir, 'out-faults');
      const r = await run(['wordcount', '--input', 's3://logs/2026/', '--output', out, '--reducers', '2', '--split-size', '64KB'], { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readParts(out), readParts(join(dir, 'out-local')));
      assert.equal(proxy.stats().dropped, 3);
      assert.equal(proxy.stats().throttled, 3);
      // Throttled past every retry: a clear error naming the URI, and no output made.
      proxy.throttleNext(50);
      const gaveUp = await run(['wordcount', '--input', 's3://logs/2026/', '--output', join(dir, 'out-throttled')], { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint });
      assert.notEqual(gaveUp.code, 0);
      assert.match(gaveUp.stderr, /TORPEDO_ERR_STORAGE_UNAVAILABLE: S3 kept throttling .*s3:\/\/logs\/2026\//);
      assert.ok(!existsSync(join(dir, 'out-throttled')), 'an output was made');
    } finally {
      await proxy.stop();
    }
  });

  test('2,500 input objects, listed in pages and packed into a few splits', async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    const body = (i: number): string => `object ${i} word${i % 97} common\n`;
    for (let i = 0; i < 2500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const name = `f${String(i + j).padStart(5, '0')}.txt`;
          writeFileSync(join(many, name), body(i + j));
          return client.send(new PutObjectCommand({ Bucket: 'logs', Key: `many/${name}`, Body: body(i + j) }));
        }),
      );
    }
    const local = await run(['wordcount', '--input', many, '--output', join(dir, 'out-many-local'), '--reducers', '2']);
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, 'out-many');
    const r = await run(['wordcount', '--input', 's3://logs/many/', '--output', out, '--reducers', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readParts(out), readParts(join(dir, 'out-many-local')));
    assert.equal(jsonSummary(r).counters['map input records'], 2500);
  });

  test('a missing bucket, a missing key and wrong keys are clear errors naming the URI, and no output is made', async () => {
    const missing = await run(['wordcount', '--input', 's3://no-such-bucket/x/', '--output', join(dir, 'o1')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /s3:\/\/no-such-bucket/);
    const nothing = await run(['wordcount', '--input', 's3://logs/2027/', '--output', join(dir, 'o2')]);
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.stderr, /s3:\/\/logs\/2027\/.*names no object/);
    if (server.kind === 'radosgw') {
      const wrong = await run(['wordcount', '--input', 's3://logs/2026/', '--output', join(dir, 'o3')], { ...server.env(), AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /s3:\/\/logs\/2026\//);
      assert.ok(!wrong.stderr.includes('wrong-secret-value'), 'the secret in the error');
    }
  });
});
