// The manager with TORPEDO_LAUNCHER=kubernetes, as two replicas sharing one PostgreSQL database and
// one data volume, against the fake API server: a job submitted to one replica runs as a master Job
// (and workers Job) on the "cluster", and the other replica serves its state, its live events, its
// output, and can cancel it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jobObjectNames } from '../src/kubernetes/names.ts';
import { readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { FakeKubeApi, rbacFromManifests, type KubeObject } from './support/fake-kube-api.ts';
import { resetPostgres, startTestManager, type TestManager } from './support/manager-harness.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const NS = 'torpedo';
const MANAGER = `system:serviceaccount:${NS}:torpedo-manager`;
const SAMPLE = readFileSync(join(ROOT, 'examples', 'data', 'sample.txt'));
/** Slow enough to be caught running: each of 200 lines waits 200 ms, spread over 2 workers. */
const SLOW = readFileSync(join(ROOT, 'test', 'jobs', 'slow-map.mjs'), 'utf8');
const LINES = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n') + '\n';

let dir: string;
let home: string;
let fake: FakeKubeApi;
let postgres: PostgresServer;
let a: TestManager;
let b: TestManager;
let token: string;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function objectsOf(id: string): KubeObject[] {
  return (['jobs', 'pods', 'secrets'] as const).flatMap((k) => fake.list(k, NS)).filter((o) => o.metadata.labels?.['torpedo/job-id'] === id);
}

before(async () => {
  dir = tempDir('torpedo-k8s-manager-');
  home = join(dir, 'data');
  mkdirSync(home);
  const rbac = rbacFromManifests(
    ['manager-rbac.yaml', 'master-rbac.yaml'].map((f) => readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', f), 'utf8')),
    NS,
  );
  fake = await FakeKubeApi.start({ claims: { 'torpedo-data': home }, freePortEnv: ['TORPEDO_MASTER_PORT'], rbac });
  postgres = await startPostgres();
  await resetPostgres(postgres.url);
  const env = {
    TORPEDO_LAUNCHER: 'kubernetes',
    TORPEDO_K8S_IMAGE: 'torpedo:test',
    TORPEDO_K8S_NAMESPACE: NS,
    KUBECONFIG: fake.kubeconfig(MANAGER, NS),
  };
  a = await startTestManager('postgres', { postgresUrl: postgres.url, home, env });
  b = await startTestManager('postgres', { postgresUrl: postgres.url, home, env });
  token = await a.newUser('kate');
  assert.equal((await a.call('POST', '/datasets?name=sample', { token, body: SAMPLE })).status, 201);
  assert.equal((await a.call('POST', '/datasets?name=lines', { token, body: LINES })).status, 201);
});

after(async () => {
  await a?.close();
  await b?.close();
  await fake?.close();
  await postgres?.stop();
  removeDir(dir);
});

describe('the manager on a cluster, two replicas', () => {
  test('a job submitted to one replica runs on the cluster; the other serves its live state, its events and its output', async () => {
    const submitted = await a.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 2, workers: 2, maps: 4 } });
    assert.equal(submitted.status, 201, submitted.body);
    const id = submitted.json.id as string;
    // Replica B's events, from now to the end (inject returns once the stream ends).
    const events = b.call('GET', `/jobs/${id}/events`, { token });
    const done = await b.waitForJob(token, id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error ?? done));
    const body = (await events).body;
    const last = body.trim().split('\n\n').pop() ?? '';
    assert.match(last, /^event: job\n/);
    assert.equal(JSON.parse(last.split('\n')[1]?.slice('data: '.length) ?? '{}').status, 'succeeded');
    // Both replicas show the same finished job: its phases, tasks (from the master's status file) and counters.
    // (Task states are those of the master's last periodic status: its final one has no task table.)
    for (const m of [a, b]) {
      const job = (await m.call('GET', `/jobs/${id}`, { token })).json;
      assert.equal(job.status, 'succeeded');
      assert.deepEqual(job.phases.map, { done: 4, total: 4 });
      assert.deepEqual(job.phases.reduce, { done: 2, total: 2 });
      assert.equal(job.tasks.filter((t: { kind: string }) => t.kind === 'map').length, 4);
      assert.ok(job.counters['map input records'] > 0);
    }
    // The output, through B, equals `torpedo run` on the same input.
    const oracle = join(dir, 'oracle');
    const input = join(dir, 'sample.txt');
    writeFileSync(input, SAMPLE);
    const o = await runCli(['run', 'wordcount', '--input', input, '--output', oracle, '--reducers', '2', '--no-progress']);
    assert.equal(o.code, 0, o.stderr);
    assert.equal((await b.call('GET', `/jobs/${id}/output`, { token })).body, readParts(oracle).join(''));
    // The master ran in a pod of the master Job, its workers in pods of the workers Job (gone now).
    const masterPod = fake.list('pods', NS).find((p) => p.metadata.labels?.['torpedo/job-id'] === id);
    assert.equal(masterPod?.metadata.labels?.['app.kubernetes.io/component'], 'master');
    assert.equal(fake.get('jobs', NS, jobObjectNames(id).workers), undefined);
  });

  test('a job running on the cluster, submitted to one replica, is seen running on the other and cancelled from it: everything it created goes', async () => {
    const submitted = await a.call('POST', '/jobs', { token, json: { code: SLOW, language: 'js', inputs: ['lines'], workers: 2, maps: 4 } });
    assert.equal(submitted.status, 201, submitted.body);
    const id = submitted.json.id as string;
    await until('B to see a task running', async () => {
      const j = (await b.call('GET', `/jobs/${id}`, { token })).json;
      return j.status === 'running' && j.tasks.some((t: { attempts: { state: string }[] }) => t.attempts.some((x) => x.state === 'running')) ? j : undefined;
    });
    assert.ok(objectsOf(id).some((o) => o.kind === 'Pod' && o.metadata.labels?.['app.kubernetes.io/component'] === 'worker'), 'worker pods run');
    const cancel = await b.call('DELETE', `/jobs/${id}`, { token });
    assert.equal(cancel.status, 200, cancel.body);
    assert.equal(cancel.json.status, 'cancelled');
    assert.equal((await a.call('GET', `/jobs/${id}`, { token })).json.status, 'cancelled');
    await until('the job\'s objects to be gone', async () => (objectsOf(id).length === 0 ? true : undefined), 20_000);
    assert.equal((await a.call('DELETE', `/jobs/${id}`, { token })).status, 409);
  });
});
