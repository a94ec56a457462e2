// Attempts' logs in the manager: GET /jobs/:id/logs and /jobs/:id/logs/:attempt for the owner
// and admins only, path tricks refused, kept after the job, removed after
// TORPEDO_LOG_RETENTION_DAYS; and `torpedo logs ID TASK [--follow]` against a listening manager.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { loadConfig } from '../src/manager/config.ts';
import { ADMIN_PASSWORD, JWT_SECRET, startTestManager, type TestManager } from './support/manager-harness.ts';

const CHATTY = readFileSync(join(ROOT, 'test', 'jobs', 'chatty.mjs'), 'utf8');
const SLOWLY = readFileSync(join(ROOT, 'test', 'jobs', 'logs-slowly.mjs'), 'utf8');
const THROWS = readFileSync(join(ROOT, 'test', 'jobs', 'throws.mjs'), 'utf8');

describe('attempt logs in the manager', () => {
  let m: TestManager;
  let url: string;
  let owner: string;
  let config: string;

  before(async () => {
    m = await startTestManager('pglite', { env: { TORPEDO_PORT: '0' } });
    url = await m.manager.listen();
    owner = await m.newUser('lena');
    assert.equal((await m.call('POST', '/datasets?name=words', { token: owner, body: 'hello\nworld\n' })).status, 201);
    assert.equal((await m.call('POST', '/datasets?name=poisoned', { token: owner, body: 'fine\nPOISON here\n' })).status, 201);
    assert.equal((await m.call('POST', '/datasets?name=ten', { token: owner, body: Array.from({ length: 10 }, (_, i) => `line${i}\n`).join('') })).status, 201);
    config = tempDir('torpedo-logs-client-');
    const login = await runCli(['login', '--server', url, '--username', 'lena'], { env: { TORPEDO_CONFIG_DIR: config, TORPEDO_PASSWORD: 'lena-password' } });
    assert.equal(login.code, 0, login.stderr);
  });
  after(async () => {
    await m?.close();
    removeDir(config);
  });

  const client = (args: string[]) => runCli(['logs', ...args], { env: { TORPEDO_CONFIG_DIR: config, TORPEDO_SERVER: url }, timeoutMs: 60_000 });

  test("the owner reads a finished job's attempt logs, from an offset too; the output has none of it", async () => {
    const id = (await m.call('POST', '/jobs', { token: owner, json: { code: CHATTY, language: 'js', inputs: ['words'], workers: 1 } })).json.id as string;
    assert.equal((await m.waitForJob(owner, id)).status, 'succeeded');
    const list = await m.call('GET', `/jobs/${id}/logs`, { token: owner });
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(
      list.json.logs.map((l: { attemptId: string; task: string; attempt: number }) => [l.attemptId, l.task, l.attempt]),
      [
        ['map-00000-a0', 'map-00000', 0],
        ['reduce-00000-a0', 'reduce-00000', 0],
      ],
    );
    const log = await m.call('GET', `/jobs/${id}/logs/map-00000-a0`, { token: owner });
    assert.equal(log.status, 200);
    assert.match(String(log.headers['content-type']), /^text\/plain/);
    assert.match(log.body, /^map saw hello$/m);
    assert.match(log.body, /^--- torpedo: map-00000-a0 succeeded ---$/m);
    assert.doesNotMatch(log.body, new RegExp(m.home), "the manager's storage paths are not shown");
    assert.equal(Number(log.headers['x-torpedo-log-next']), Buffer.byteLength(log.body));
    const rest = await m.call('GET', `/jobs/${id}/logs/map-00000-a0?offset=14`, { token: owner });
    assert.equal(rest.body, log.body.slice(14));
    const output = await m.call('GET', `/jobs/${id}/output`, { token: owner });
    assert.equal(output.body, 'hello\t5\nworld\t5\n');

    const shown = await client([id, 'map-00000']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, log.body);
  });

  test('only the owner and admins may read a job’s logs; another user gets 404', async () => {
    const id = (await m.call('POST', '/jobs', { token: owner, json: { code: CHATTY, language: 'js', inputs: ['words'], workers: 1 } })).json.id as string;
    await m.waitForJob(owner, id);
    const other = await m.newUser('mallory');
    for (const path of [`/jobs/${id}/logs`, `/jobs/${id}/logs/map-00000-a0`]) {
      const r = await m.call('GET', path, { token: other });
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error.code, 'TORPEDO_ERR_NOT_FOUND');
      assert.doesNotMatch(r.body, /map saw/);
    }
    const admin = await m.login('admin', ADMIN_PASSWORD);
    assert.match((await m.call('GET', `/jobs/${id}/logs/map-00000-a0`, { token: admin })).body, /map saw hello/);
    assert.equal((await m.call('GET', `/jobs/${id}/logs`)).status, 401);
  });

  test('an attempt that is a path, or no attempt id, is refused with 400; an unknown one is 404', async () => {
    const id = (await m.call('POST', '/jobs', { token: owner, json: { code: CHATTY, language: 'js', inputs: ['words'], workers: 1 } })).json.id as string;
    await m.waitForJob(owner, id);
    for (const attempt of ['..%2F..%2Fjob.json', '..%2F_SUCCESS', 'map-1', 'map-00000']) {
      const r = await m.call('GET', `/jobs/${id}/logs/${attempt}`, { token: owner });
      assert.equal(r.status, 400, `${attempt}: ${r.body}`);
      assert.equal(r.json.error.code, 'TORPEDO_ERR_BAD_REQUEST');
      assert.match(r.json.error.message, /is not an attempt id such as map-00003-a0/);
    }
    assert.equal((await m.call('GET', `/jobs/${id}/logs/map-00007-a0`, { token: owner })).status, 404);
    const bad = await client([id, '../job.json']);
    assert.equal(bad.code, 2);
  });

  test('a failed job keeps every attempt’s log', async () => {
    const id = (await m.call('POST', '/jobs', { token: owner, json: { code: THROWS, language: 'js', inputs: ['poisoned'], workers: 1 } })).json.id as string;
    assert.equal((await m.waitForJob(owner, id)).status, 'failed');
    const list = (await m.call('GET', `/jobs/${id}/logs`, { token: owner })).json.logs.map((l: { attemptId: string }) => l.attemptId);
    assert.deepEqual(list, ['map-00000-a0', 'map-00000-a1', 'map-00000-a2']);
    const shown = await client([id, 'map-00000', '--attempt', '2']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /poisoned record: POISON here/);
    assert.match(shown.stdout, /^--- torpedo: map-00000-a2 failed ---$/m);
  });

  test('torpedo logs --follow prints a running job’s attempt until the job ends', async () => {
    const id = (await m.call('POST', '/jobs', { token: owner, json: { code: SLOWLY, language: 'js', inputs: ['ten'], workers: 1, maps: 1 } })).json.id as string;
    for (let i = 0; ; i++) {
      const j = (await m.call('GET', `/jobs/${id}`, { token: owner })).json;
      if (j.status === 'running' && j.tasks.some((t: { attempts: unknown[] }) => t.attempts.length > 0)) break;
      assert.ok(i < 600, 'the job started a task');
      await new Promise((r) => setTimeout(r, 50));
    }
    const f = await client([id, 'map-00000', '--follow']);
    assert.equal(f.code, 0, f.stderr);
    assert.equal((await m.call('GET', `/jobs/${id}`, { token: owner })).json.status, 'succeeded');
    for (let i = 0; i < 10; i++) assert.match(f.stdout, new RegExp(`^tick line${i}$`, 'm'));
    assert.match(f.stdout, /^--- torpedo: map-00000-a0 succeeded ---$/m);
  });
});

test('TORPEDO_LOG_RETENTION_DAYS removes the logs of jobs that ended longer ago, and only their logs', async () => {
  // 0.00003 days: about 2.6 s.
  const m = await startTestManager('pglite', { env: { TORPEDO_LOG_RETENTION_DAYS: '0.00003' } });
  try {
    const token = await m.newUser('rita');
    await m.call('POST', '/datasets?name=words', { token, body: 'hello\nworld\n' });
    const id = (await m.call('POST', '/jobs', { token, json: { code: CHATTY, language: 'js', inputs: ['words'], workers: 1 } })).json.id as string;
    assert.equal((await m.waitForJob(token, id)).status, 'succeeded');
    const logs = join(m.manager.context.scheduler.outputDir(id), '_logs');
    assert.equal((await m.call('GET', `/jobs/${id}/logs`, { token })).json.logs.length, 2, 'kept right after the job');
    for (let i = 0; existsSync(logs); i++) {
      assert.ok(i < 200, 'the logs were removed within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual((await m.call('GET', `/jobs/${id}/logs`, { token })).json.logs, []);
    assert.equal((await m.call('GET', `/jobs/${id}/logs/map-00000-a0`, { token })).status, 404);
    assert.equal((await m.call('GET', `/jobs/${id}/output`, { token })).body, 'hello\t5\nworld\t5\n', 'the output stays');
  } finally {
    await m.close();
  }
  const env = { TORPEDO_HOME: m.home, TORPEDO_JWT_SECRET: JWT_SECRET };
  assert.equal(loadConfig(env).logRetentionMs, 30 * 86_400_000, 'a month unless set');
  assert.equal(loadConfig({ ...env, TORPEDO_LOG_RETENTION_DAYS: '0' }).logRetentionMs, 0);
  assert.throws(() => loadConfig({ ...env, TORPEDO_LOG_RETENTION_DAYS: 'soon' }), /TORPEDO_LOG_RETENTION_DAYS must be a number of days/);
});
