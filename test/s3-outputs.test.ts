// Outputs in S3, end to end (`torpedo run … --output s3://…`): the job runs and commits in a
// staging directory on this machine, then its output is published to the prefix, _SUCCESS last.
// Against a real S3 server on loopback: the objects are the part files of the same job run to a
// local directory, an existing output needs --force, and a crash while publishing is finished
// by --resume without running the job again.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { jsonSummary, prose, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { s3ClientFor, startS3Server, type S3Server } from './support/s3-server.ts';

describe('outputs in S3', () => {
  let dir: string;
  let server: S3Server;
  let client: S3Client;
  let local: string[];

  const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 180_000, env: { ...server.env(), TORPEDO_STAGING_DIR: join(dir, 'staging'), ...env } });

  /** The objects under `prefix`, their keys and bytes. */
  async function objects(prefix: string): Promise<Map<string, Buffer>> {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: prefix }));
    const out = new Map<string, Buffer>();
    for (const c of listed.Contents ?? []) {
      const res = await client.send(new GetObjectCommand({ Bucket: 'results', Key: c.Key! }));
      out.set(c.Key!.slice(prefix.length), Buffer.from(await res.Body!.transformToByteArray()));
    }
    return out;
  }

  /** The part files among `objs`, in name order, as readParts gives a local output's. */
  function parts(objs: Map<string, Buffer>): string[] {
    return [...objs.keys()].filter((k) => k.startsWith('part-')).sort().map((k) => objs.get(k)!.toString('utf8'));
  }

  before(async () => {
    dir = tempDir('torpedo-s3-outputs-');
    server = await startS3Server();
    await server.createBucket('results');
    client = s3ClientFor(server);
    writeFileSync(join(dir, 'in.txt'), prose(30_000));
    const r = await run(['wordcount', '--input', join(dir, 'in.txt'), '--output', join(dir, 'local'), '--reducers', '3']);
    assert.equal(r.code, 0, r.stderr);
    local = readParts(join(dir, 'local'));
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    removeDir(dir);
  });

  test('the part files, _SUCCESS and the logs are published under the prefix; the staging directory goes', async () => {
    const r = await run(['wordcount', '--input', join(dir, 'in.txt'), '--output', 's3://results/counts/', '--reducers', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonSummary(r).output, 's3://results/counts/');
    const objs = await objects('counts/');
    assert.deepEqual(parts(objs), local);
    assert.deepEqual(JSON.parse(objs.get('_SUCCESS')!.toString()), JSON.parse(readFileSync(join(dir, 'local', '_SUCCESS'), 'utf8')), 'the same manifest: sizes and CRCs of the same parts');
    assert.ok([...objs.keys()].some((k) => k.startsWith('_logs/')), 'the attempts\' logs');
    assert.ok(![...objs.keys()].some((k) => k.startsWith('_temporary/')));
    assert.ok(!readdirNames(join(dir, 'staging')).length, 'the staging directory is left');
  });

  test('an output prefix that holds objects needs --force, which replaces them; one inside an input is refused', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'results', Key: 'old/stale.txt', Body: 'stale' }));
    const refused = await run(['wordcount', '--input', join(dir, 'in.txt'), '--output', 's3://results/old']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /TORPEDO_ERR_OUTPUT_EXISTS: output "s3:\/\/results\/old" holds objects already; pass --force/);
    const forced = await run(['wordcount', '--input', join(dir, 'in.txt'), '--output', 's3://results/old', '--reducers', '3', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    const objs = await objects('old/');
    assert.ok(!objs.has('stale.txt'));
    assert.deepEqual(parts(objs), local);
    const inside = await run(['wordcount', '--input', 's3://results/old/', '--output', 's3://results/old/again/']);
    assert.match(inside.stderr, /TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT/);
  });

  test('a crash while publishing, before _SUCCESS, is finished by --resume without running the job again', async () => {
    const args = ['wordcount', '--input', join(dir, 'in.txt'), '--output', 's3://results/crash/', '--reducers', '3'];
    // Killed after uploading two files: some parts are there, _SUCCESS is not.
    const crashed = await run(args, { TORPEDO_TEST_CRASH_IN_PUBLISH: '2' });
    assert.notEqual(crashed.code, 0);
    const half = await objects('crash/');
    assert.equal(half.size, 2);
    assert.ok(!half.has('_SUCCESS'), '_SUCCESS before every part');
    const resumed = await run([...args, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(jsonSummary(resumed).phases.map.tasks, 0, 'the job ran again');
    const objs = await objects('crash/');
    assert.deepEqual(parts(objs), local);
    assert.ok(objs.has('_SUCCESS'));
  });
});

function readdirNames(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
