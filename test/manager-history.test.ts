// Job history and the queue in the manager (issue 19, section 3): job names and filtered lists,
// deleting a finished job with its output, running a job again, retention of finished jobs, the
// queue's positions and reasons, the admins' cluster view with CPU and RSS from heartbeats, and
// the per-job Prometheus metrics.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { after, before, describe, test } from 'node:test';
import { jobs } from '../src/manager/database/schema.ts';
import { ROOT } from './helpers.ts';
import { ADMIN_PASSWORD, resetPostgres, startTestManager, type DbKind, type TestManager } from './support/manager-harness.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const SLOW = readFileSync(join(ROOT, 'test', 'jobs', 'slow-map.mjs'), 'utf8');
const LINES = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n') + '\n';
const SAMPLE = 'the quick brown fox\njumps over the lazy dog\nthe end\n';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const kind of ['pglite', 'postgres'] as const satisfies readonly DbKind[]) describe(`job history and the queue on ${kind}`, () => {
  let postgres: PostgresServer | undefined;
  let m: TestManager;
  let olga: string;
  let petr: string;
  let admin: string;

  before(async () => {
    if (kind === 'postgres') {
      postgres = await startPostgres();
      await resetPostgres(postgres.url);
    }
    m = await startTestManager(kind, { ...(postgres ? { postgresUrl: postgres.url } : {}), env: { TORPEDO_MAX_RUNNING_JOBS: '1', TORPEDO_JOB_RETENTION_DAYS: '7' } });
    olga = await m.newUser('olga');
    petr = await m.newUser('petr');
    admin = await m.login('admin', ADMIN_PASSWORD);
    for (const token of [olga, petr]) {
      await m.call('POST', '/datasets?name=lines', { token, body: LINES });
      await m.call('POST', '/datasets?name=sample', { token, body: SAMPLE });
    }
  });
  after(async () => {
    await m?.close();
    await postgres?.stop();
  });

  test('a job keeps the name it was given; lists filter by state, owner and name', async () => {
    const a = await m.call('POST', '/jobs', { token: olga, json: { name: 'Nightly word count', example: 'wordcount', inputs: ['sample'] } });
    assert.equal(a.status, 201, a.body);
    const b = await m.call('POST', '/jobs', { token: petr, json: { name: 'nightly grep', example: 'grep', inputs: ['sample'], params: { pattern: 'the' } } });
    assert.equal(b.status, 201, b.body);
    await m.waitForJob(olga, a.json.id);
    await m.waitForJob(petr, b.json.id);
    assert.equal((await m.call('GET', `/jobs/${a.json.id}`, { token: olga })).json.name, 'Nightly word count');

    const ids = async (token: string, query: string): Promise<string[]> => {
      const res = await m.call('GET', `/jobs${query}`, { token });
      assert.equal(res.status, 200, res.body);
      return res.json.jobs.map((j: { id: string }) => j.id);
    };
    assert.deepEqual(await ids(admin, '?name=NIGHTLY'), [b.json.id, a.json.id], 'a name matches by part, ignoring case');
    assert.deepEqual(await ids(admin, '?name=word'), [a.json.id]);
    assert.deepEqual(await ids(admin, '?owner=Petr&name=nightly'), [b.json.id]);
    assert.deepEqual(await ids(olga, '?owner=petr'), [], 'users see only their own jobs, whatever they filter by');
    assert.deepEqual(await ids(admin, '?status=succeeded,failed&name=nightly'), [b.json.id, a.json.id]);
    assert.deepEqual(await ids(admin, '?status=queued&name=nightly'), []);
    assert.deepEqual(await ids(admin, '?name=%25'), [], '% is a character, not a wildcard');
    const bad = await m.call('GET', '/jobs?status=done', { token: olga });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'TORPEDO_ERR_BAD_REQUEST');
    const badName = await m.call('POST', '/jobs', { token: olga, json: { name: 'a\nb', example: 'wordcount', inputs: ['sample'] } });
    assert.equal(badName.status, 400);
  });

  test('a finished job is deleted with its output, by its owner or an admin; a running one is cancelled first', async () => {
    const done = await m.call('POST', '/jobs', { token: olga, json: { example: 'wordcount', inputs: ['sample'] } });
    await m.waitForJob(olga, done.json.id);
    const dir = join(m.home, 'jobs', done.json.id);
    assert.ok(existsSync(join(dir, 'output', 'part-r-00000')));
    assert.equal((await m.call('DELETE', `/jobs/${done.json.id}`, { token: petr })).status, 404, 'not another user’s');
    const del = await m.call('DELETE', `/jobs/${done.json.id}`, { token: olga });
    assert.equal(del.status, 200, del.body);
    assert.deepEqual(del.json, { id: done.json.id, deleted: true });
    assert.equal(existsSync(dir), false, 'its directory, output and all, is gone');
    assert.equal((await m.call('GET', `/jobs/${done.json.id}`, { token: olga })).status, 404);
    assert.equal((await m.call('DELETE', `/jobs/${done.json.id}`, { token: olga })).status, 404);

    const other = await m.call('POST', '/jobs', { token: petr, json: { example: 'wordcount', inputs: ['sample'] } });
    await m.waitForJob(petr, other.json.id);
    assert.equal((await m.call('DELETE', `/jobs/${other.json.id}`, { token: admin })).json.deleted, true, 'an admin may delete anyone’s');

    const slow = await m.call('POST', '/jobs', { token: olga, json: { code: SLOW, language: 'js', inputs: ['lines'], workers: 1 } });
    const first = await m.call('DELETE', `/jobs/${slow.json.id}`, { token: olga });
    assert.equal(first.json.status, 'cancelled', 'DELETE of an active job cancels it');
    assert.ok(existsSync(join(m.home, 'jobs', slow.json.id)), 'and keeps it');
    const cancelAgain = await m.call('POST', `/jobs/${slow.json.id}/cancel`, { token: olga });
    assert.equal(cancelAgain.status, 409, 'POST …/cancel only cancels');
    assert.equal((await m.call('DELETE', `/jobs/${slow.json.id}`, { token: olga })).json.deleted, true);
  });

  test('rerun submits the same spec as a new job with an output of its own', async () => {
    const code = await m.call('POST', '/jobs', { token: olga, json: { name: 'slow one', code: SLOW, language: 'js', inputs: ['sample'], reducers: 2, maps: 2, params: { x: '1' } } });
    assert.equal(code.status, 201, code.body);
    const first = await m.waitForJob(olga, code.json.id);
    assert.equal(first.status, 'succeeded');
    assert.equal((await m.call('POST', `/jobs/${code.json.id}/rerun`, { token: petr })).status, 404);
    const again = await m.call('POST', `/jobs/${code.json.id}/rerun`, { token: olga });
    assert.equal(again.status, 201, again.body);
    assert.notEqual(again.json.id, code.json.id);
    const second = await m.waitForJob(olga, again.json.id);
    assert.equal(second.status, 'succeeded');
    for (const k of ['name', 'job', 'inputs', 'reducers', 'maps', 'workers', 'params', 'outputParts'] as const) assert.deepEqual(second[k], first[k], k);
    assert.equal((await m.call('GET', `/jobs/${again.json.id}/output`, { token: olga })).body, (await m.call('GET', `/jobs/${code.json.id}/output`, { token: olga })).body);

    const streaming = await m.call('POST', '/jobs', { token: olga, json: { mapper: 'sh map.sh', reducer: 'uniq -c', files: { 'map.sh': 'tr " " "\\n"\n' }, inputs: ['sample'] } });
    assert.equal(streaming.status, 201, streaming.body);
    const s1 = await m.waitForJob(olga, streaming.json.id);
    const s2 = await m.waitForJob(olga, (await m.call('POST', `/jobs/${streaming.json.id}/rerun`, { token: olga })).json.id);
    assert.equal(s2.status, s1.status);
    assert.deepEqual(s2.streaming, s1.streaming);
  });

  test('finished jobs past the retention setting are deleted with their output; younger ones stay', async () => {
    const old = await m.call('POST', '/jobs', { token: olga, json: { example: 'wordcount', inputs: ['sample'] } });
    const recent = await m.call('POST', '/jobs', { token: olga, json: { example: 'wordcount', inputs: ['sample'] } });
    await m.waitForJob(olga, old.json.id);
    await m.waitForJob(olga, recent.json.id);
    const db = m.manager.context.database.db;
    await db.update(jobs).set({ finishedAt: new Date(Date.now() - 8 * 86_400_000) }).where(eq(jobs.id, old.json.id));
    const removed = await m.manager.context.scheduler.removeExpired();
    assert.deepEqual(removed, [old.json.id]);
    assert.equal((await m.call('GET', `/jobs/${old.json.id}`, { token: olga })).status, 404);
    assert.equal(existsSync(join(m.home, 'jobs', old.json.id)), false);
    assert.equal((await m.call('GET', `/jobs/${recent.json.id}`, { token: olga })).status, 200);
  });

  test('a queued job shows its place in the queue and why it waits; admins see workers with CPU and RSS; metrics per job', async () => {
    const slow = await m.call('POST', '/jobs', { token: olga, json: { name: 'blocker', code: SLOW, language: 'js', inputs: ['lines'], workers: 2, maps: 4 } });
    const q1 = await m.call('POST', '/jobs', { token: olga, json: { example: 'wordcount', inputs: ['sample'] } });
    const q2 = await m.call('POST', '/jobs', { token: petr, json: { example: 'wordcount', inputs: ['sample'] } });
    await until('the slow job to run', async () => ((await m.call('GET', `/jobs/${slow.json.id}`, { token: olga })).json.status === 'running' ? true : undefined));
    // Olga runs one job, the most one user may here (the cap per user is the running-jobs cap, 1):
    // petr's job goes first, and olga's waits for her own slot.
    const j1 = (await m.call('GET', `/jobs/${q1.json.id}`, { token: olga })).json;
    const j2 = (await m.call('GET', `/jobs/${q2.json.id}`, { token: petr })).json;
    assert.deepEqual(j2.queue, { position: 1, reason: 'running-jobs-cap' });
    assert.deepEqual(j1.queue, { position: 2, reason: 'user-cap' });
    const listed = (await m.call('GET', '/jobs?status=queued', { token: olga })).json.jobs;
    assert.deepEqual(listed.map((j: { queue: unknown }) => j.queue), [{ position: 2, reason: 'user-cap' }]);

    assert.equal((await m.call('GET', '/cluster', { token: olga })).status, 403);
    const view = await until('heartbeats with usage', async () => {
      const v = (await m.call('GET', '/cluster', { token: admin })).json;
      const attempts = v.workers.flatMap((w: { running: { cpuMs?: number }[] }) => w.running);
      return attempts.length > 0 && attempts.every((a: { cpuMs?: number }) => a.cpuMs !== undefined) ? v : undefined;
    });
    assert.equal(view.runningJobs, 1);
    assert.equal(view.queuedJobs, 2);
    for (const w of view.workers) {
      assert.equal(w.job, slow.json.id);
      assert.equal(w.jobName, 'blocker');
      assert.equal(w.owner, 'olga');
      for (const a of w.running) {
        assert.equal(a.kind, 'map');
        assert.ok(a.cpuMs >= 0);
        assert.ok(a.rssBytes > 10 * 2 ** 20, `a worker's RSS is that of a Node process: ${a.rssBytes}`);
      }
    }
    const job = (await m.call('GET', `/jobs/${slow.json.id}`, { token: olga })).json;
    assert.ok(job.tasks.some((t: { attempts: { state: string; rssBytes?: number }[] }) => t.attempts.some((a) => a.state === 'running' && a.rssBytes !== undefined)));

    const metricsToken = admin;
    const scrape = async (): Promise<string> => (await m.call('GET', '/metrics', { token: metricsToken })).body;
    const live = await scrape();
    assert.match(live, /^torpedo_queue_length 2$/m);
    assert.match(live, new RegExp(`^torpedo_job_tasks\\{job="${slow.json.id}",kind="map",state="running"\\} [12]$`, 'm'));
    assert.match(live, new RegExp(`^torpedo_job_attempts\\{job="${slow.json.id}",kind="map",state="running"\\} [12]$`, 'm'));
    assert.match(live, new RegExp(`^torpedo_job_input_bytes\\{job="${slow.json.id}"\\} ${LINES.length}$`, 'm'));
    assert.match(live, new RegExp(`^torpedo_job_read_bytes\\{job="${slow.json.id}"\\} \\d+$`, 'm'));

    await m.call('DELETE', `/jobs/${slow.json.id}`, { token: olga });
    await m.waitForJob(petr, q2.json.id);
    await m.waitForJob(olga, q1.json.id);
    const ended = await scrape();
    assert.doesNotMatch(ended, new RegExp(`job="${slow.json.id}"`), 'per-job series go with the job');
    assert.match(ended, /^torpedo_queue_length 0$/m);
    assert.match(ended, /^torpedo_job_duration_seconds_count\{status="cancelled"\} [1-9]\d*$/m);
    assert.match(ended, /^torpedo_job_duration_seconds_count\{status="succeeded"\} [1-9]\d*$/m);
    assert.match(ended, /^torpedo_job_queue_wait_seconds_count [1-9]\d*$/m);
    const bytesOut = Number(/^torpedo_job_output_bytes_total (\d+)$/m.exec(ended)?.[1]);
    assert.ok(bytesOut > 0, 'output bytes are counted');
    assert.ok(Number(/^torpedo_job_input_bytes_total (\d+)$/m.exec(ended)?.[1]) >= 2 * SAMPLE.length);
  });
});
