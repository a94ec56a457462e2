// `torpedo manager` (a real process) with TORPEDO_STORAGE=s3://…: datasets are kept in S3 (a real
// radosgw on loopback), uploads stream as multipart uploads and downloads stream back, jobs read
// them through their storage gateway, another user's dataset stays out of reach, a manager
// killed mid-job finishes it after a restart, and no credential is in any response or log line.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ROOT, prose, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';
import { s3ClientFor, startS3Server, type S3Server } from './support/s3-server.ts';

const PACED = readFileSync(join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), 'utf8');

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** What `torpedo run` gives for `job` on `text` from a local file: the parts, concatenated. */
async function expected(dir: string, job: string, text: string, flags: readonly string[]): Promise<string> {
  const name = `${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, `${name}.txt`), text);
  const r = await runCli(['run', job, '--input', join(dir, `${name}.txt`), '--output', join(dir, `${name}-out`), ...flags, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  return readParts(join(dir, `${name}-out`)).join('');
}

describe('the manager with datasets in S3', () => {
  let server: S3Server;
  let client: S3Client;
  let dir: string;
  let m: ManagerProcess;
  const outputs: string[] = [];
  const env = (): Record<string, string> => ({ ...server.env(), TORPEDO_STORAGE: 's3://torpedo-data/team/', TORPEDO_ADMIN_PASSWORD: 'admin-password-1', TORPEDO_JWT_SECRET: 'a-test-secret-that-is-long-enough-000000' });
  const start = async (): Promise<ManagerProcess> => {
    const p = await startManagerProcess(join(dir, 'home'), env());
    outputs.push('');
    p.child.on('exit', () => (outputs[outputs.length - 1] = p.output()));
    return p;
  };
  const user = async (name: string): Promise<string> => {
    assert.equal((await api(m.url, 'POST', '/auth/register', undefined, { username: name, password: `${name}-password` })).status, 201);
    return (await api(m.url, 'POST', '/auth/login', undefined, { username: name, password: `${name}-password` })).json.token as string;
  };

  before(async () => {
    server = await startS3Server();
    await server.createBucket('torpedo-data');
    client = s3ClientFor(server);
    dir = tempDir('torpedo-manager-s3-');
    m = await start();
  });
  after(async () => {
    m?.child.kill('SIGKILL');
    client?.destroy();
    await server?.stop();
    removeDir(dir);
  });

  test('an upload is stored in S3 under its owner, downloads whole, and a job reads it', async () => {
    const token = await user('dora');
    // Over twice the 8 MiB part size: a multipart upload of three parts.
    const big = Buffer.from(prose(1_600_000));
    assert.ok(big.length > 16 * 2 ** 20, `${big.length} bytes`);
    const up = await api(m.url, 'POST', '/datasets?name=books.txt', token, big);
    assert.equal(up.status, 201, up.text);
    assert.equal(up.json.sha256, createHash('sha256').update(big).digest('hex'));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'torpedo-data', Prefix: 'team/datasets/' }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key?.replace(/\/\d+\//, '/N/'), c.Size]), [['team/datasets/N/books.txt', big.length]]);
    const down = await fetch(`${m.url}/datasets/books.txt`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(down.status, 200);
    assert.ok(Buffer.from(await down.arrayBuffer()).equals(big), 'the download differs');

    const small = prose(5000);
    assert.equal((await api(m.url, 'POST', '/datasets?name=small.txt', token, small)).status, 201);
    const job = await api(m.url, 'POST', '/jobs', token, { example: 'wordcount', inputs: ['small.txt'], reducers: 1 });
    assert.equal(job.status, 201, job.text);
    const done = await waitForJobEnd(m.url, token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal((await api(m.url, 'GET', `/jobs/${job.json.id}/output`, token)).text, await expected(dir, 'wordcount', small, ['--reducers', '1']));
  });

  test("another user's dataset is refused, by name and as a job input", async () => {
    const owner = await user('erin');
    assert.equal((await api(m.url, 'POST', '/datasets?name=private.txt', owner, 'secret words\n')).status, 201);
    const other = await user('frank');
    assert.equal((await api(m.url, 'GET', '/datasets/private.txt', other)).status, 404);
    const job = await api(m.url, 'POST', '/jobs', other, { example: 'wordcount', inputs: ['private.txt'] });
    assert.equal(job.status, 400, job.text);
    assert.equal(job.json.error.code, 'TORPEDO_ERR_INPUT_NOT_FOUND');
  });

  test('a manager killed mid-job finishes the job after a restart, from its committed tasks', async () => {
    const token = await user('gus');
    const text = prose(120_000);
    assert.equal((await api(m.url, 'POST', '/datasets?name=corpus.txt', token, text)).status, 201);
    const sub = await api(m.url, 'POST', '/jobs', token, { code: PACED, language: 'js', inputs: ['corpus.txt'], maps: 12, reducers: 2, workers: 2 });
    assert.equal(sub.status, 201, sub.text);
    const id = sub.json.id as string;
    for (;;) {
      const j = (await api(m.url, 'GET', `/jobs/${id}`, token)).json;
      assert.equal(j.status === 'queued' || j.status === 'running', true, JSON.stringify(j.error));
      if (j.phases.map.done >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    m.child.kill('SIGKILL');
    await stopped(m.child);
    m = await start();
    const job = await waitForJobEnd(m.url, token, id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.ok(job.tasks.filter((t: { kind: string; reused: boolean }) => t.kind === 'map' && t.reused).length >= 3, 'map tasks reused from before the restart');
    assert.equal((await api(m.url, 'GET', `/jobs/${id}/output`, token)).text, await expected(dir, join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), text, ['--maps', '12', '--reducers', '2']));
    assert.equal((await api(m.url, 'GET', '/datasets/corpus.txt', token)).text, text);
  });

  test('no credential in any response or log line', async () => {
    const token = (await api(m.url, 'POST', '/auth/login', undefined, { username: 'dora', password: 'dora-password' })).json.token as string;
    const bodies = await Promise.all(['/datasets', '/jobs', '/datasets/small.txt'].map(async (p) => (await api(m.url, 'GET', p, token)).text));
    const seen = [...bodies, ...outputs, m.output()].join('\n');
    assert.ok(m.output().length > 0, 'the manager logged nothing');
    assert.ok(!seen.includes(server.secretAccessKey), 'the secret key');
    assert.ok(!seen.includes(server.accessKeyId), 'the access key id');
  });
});
