// The manager with TORPEDO_LAUNCHER=kubernetes, as two replicas sharing one PostgreSQL database and
// one data volume, against the fake API server: a job submitted to one replica runs as a master Job
// (and workers Job) on the "cluster", and the other replica serves its state, its live events, its
// output, and can cancel it. Submitted code is checked in compile pods (the manager loads no
// job's code), every pod mounts only its job's directory and its owner's datasets, and each job's
// NetworkPolicy goes with it.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBundle } from '../src/job/probe-job.ts';
import { jobObjectNames } from '../src/kubernetes/names.ts';
import { readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import pg from 'pg';
import { FakeKubeApi, rbacFromManifests, torpedoMountPolicy, type KubeObject } from './support/fake-kube-api.ts';
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
  return (['jobs', 'pods', 'secrets', 'networkpolicies'] as const).flatMap((k) => fake.list(k, NS)).filter((o) => o.metadata.labels?.['torpedo/job-id'] === id);
}

/** What every pod of job `id` mounted of the claim, as `subPath[ ro]`, by component. */
function mountsOf(id: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [pod, mounts] of fake.allMounts()) {
    const component = pod.startsWith(`${jobObjectNames(id).compile}-`) ? 'compile' : pod.startsWith(`${jobObjectNames(id).master}-`) ? 'master' : pod.startsWith(`${jobObjectNames(id).workers}-`) ? 'worker' : undefined;
    if (component === undefined) continue;
    const set = out.get(component) ?? new Set<string>();
    for (const m of mounts) set.add(`${m.subPath}${m.readOnly ? ' ro' : ''}`);
    out.set(component, set);
  }
  return out;
}

/** Kate's user id, whose datasets are datasets/<id>/. */
async function ownerId(): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return (await client.query<{ id: number }>("select id from torpedo.users where username = 'kate'")).rows[0]?.id ?? -1;
  } finally {
    await client.end();
  }
}

before(async () => {
  // Pods have a read-only root filesystem, as the image has its bundle built in: build it first.
  await ensureBundle();
  dir = tempDir('torpedo-k8s-manager-');
  home = join(dir, 'data');
  mkdirSync(home);
  const rbac = rbacFromManifests(
    ['manager-rbac.yaml', 'master-rbac.yaml'].map((f) => readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', f), 'utf8')),
    NS,
  );
  fake = await FakeKubeApi.start({ claims: { 'torpedo-data': home }, freePortEnv: ['TORPEDO_MASTER_PORT'], rbac, mountPolicy: torpedoMountPolicy, podSecurity: 'restricted' });
  postgres = await startPostgres();
  await resetPostgres(postgres.url);
  const env = {
    TORPEDO_LAUNCHER: 'kubernetes',
    TORPEDO_K8S_IMAGE: 'torpedo:test',
    TORPEDO_K8S_NAMESPACE: NS,
    KUBECONFIG: fake.kubeconfig(MANAGER, NS),
    // Pod settings users may choose within (docs/kubernetes-launcher.md, "Pod settings").
    TORPEDO_K8S_WORKER_MAX_CPU: '2',
    TORPEDO_K8S_USER_NODE_SELECTOR_KEYS: 'disktype',
    TORPEDO_K8S_USER_TOLERATION_KEYS: 'spot',
    // Worker pods not started after 5 s are reported (the fake's local processes start well within it).
    TORPEDO_K8S_START_TIMEOUT: '5',
  };
  a = await startTestManager('postgres', { postgresUrl: postgres.url, home, env });
  b = await startTestManager('postgres', { postgresUrl: postgres.url, home, env });
  token = await a.newUser('kate');
  assert.equal((await a.call('POST', '/datasets?name=sample', { token, body: SAMPLE })).status, 201);
  assert.equal((await a.call('POST', '/datasets?name=lines', { token, body: LINES })).status, 201);
  assert.equal((await a.call('POST', '/datasets?name=lines40', { token, body: LINES.split('\n').slice(0, 40).join('\n') + '\n' })).status, 201);
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
    // Each attempt's log outlived the worker pods that wrote it: it is kept in the job's storage.
    const logs = (await b.call('GET', `/jobs/${id}/logs`, { token })).json.logs as { attemptId: string; task: string }[];
    assert.deepEqual([...new Set(logs.map((l) => l.task))], ['map-00000', 'map-00001', 'map-00002', 'map-00003', 'reduce-00000', 'reduce-00001']);
    const reduceLogs = await Promise.all(logs.filter((l) => l.task === 'reduce-00001').map(async (l) => (await b.call('GET', `/jobs/${id}/logs/${l.attemptId}`, { token })).body));
    assert.ok(reduceLogs.some((text) => /^--- torpedo: reduce-00001-a\d+ succeeded ---$/m.test(text)), reduceLogs.join('\n'));
    // Its pods mounted its directory and its owner's dataset, read-only; no compile pod for a built-in example.
    const kate = await ownerId();
    assert.deepEqual(Object.fromEntries([...mountsOf(id)].map(([k, v]) => [k, [...v]])), { master: [`jobs/${id}`, `datasets/${kate}/sample ro`], worker: [`jobs/${id}`, `datasets/${kate}/sample ro`] });
    assert.deepEqual(fake.refusedPods, []);
  });

  test('submitted code is checked in a compile pod: a syntax error is a 400 with file:line; a good module runs; the pod saw only the submission', async () => {
    const before = fake.created.length;
    const syntax = await b.call('POST', '/jobs', { token, json: { code: 'export default {\n  map(line) { emit(line, 1) \n', inputs: ['sample'] } });
    assert.equal(syntax.status, 400, syntax.body);
    assert.equal(syntax.json.error.code, 'TORPEDO_ERR_JOB_SYNTAX');
    assert.match(syntax.json.error.message, /^job\.ts:3:\d+/m);
    const compiles = fake.created.slice(before).filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'compile');
    assert.deepEqual(compiles.map((o) => o.kind), ['Job', 'NetworkPolicy'], 'the check ran in a compile Job, with its NetworkPolicy');
    const refusedId = compiles[0]?.metadata.labels?.['torpedo/job-id'] ?? '';
    await until('the compile Job to go', async () => (objectsOf(refusedId).length === 0 ? true : undefined), 10_000);

    const code = "import { defineJob } from 'torpedo';\nexport default defineJob({ map(line: string, emit) { emit(line.split(' ')[0] ?? '', 1); }, reduce(k, v, emit) { let n = 0; for (const _ of v) n++; emit(k, n); } });\n";
    const ok = await a.call('POST', '/jobs', { token, json: { code, inputs: ['sample'], reducers: 1, workers: 1 } });
    assert.equal(ok.status, 201, ok.body);
    const id = ok.json.id as string;
    const done = await b.waitForJob(token, id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error ?? done));
    const kate = await ownerId();
    assert.deepEqual(Object.fromEntries([...mountsOf(id)].map(([k, v]) => [k, [...v].sort()])), {
      compile: [`jobs/${id} ro`, `jobs/${id}/bundle`],
      master: [`datasets/${kate}/sample ro`, `jobs/${id}`],
      worker: [`datasets/${kate}/sample ro`, `jobs/${id}`],
    });
    assert.ok(fake.created.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === jobObjectNames(id).network), 'the job had its NetworkPolicy');
  });

  test('a code job stored without what loading it showed (before compile pods) is loaded in a compile pod when it starts, not in the manager', async () => {
    // A finished job's bundle, and a row as the scheduler stored it before it kept `hasSetup`.
    const code = 'export default { setup() { return 2; }, map(line, emit, ctx) { emit(String(ctx.setup), 1); }, reduce(k, v, emit) { let n = 0; for (const _ of v) n++; emit(k, n); } };\n';
    const first = await a.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['sample'], reducers: 1, workers: 1 } });
    assert.equal(first.status, 201, first.body);
    assert.equal((await a.waitForJob(token, first.json.id, 90_000)).status, 'succeeded');
    const id = 'job-stored-long-ago';
    mkdirSync(join(home, 'jobs', id, 'bundle'), { recursive: true });
    copyFileSync(join(home, 'jobs', first.json.id, 'bundle', 'job.mjs'), join(home, 'jobs', id, 'bundle', 'job.mjs'));
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const spec = { inputs: ['sample'], reducers: 1, workers: 1, params: {}, language: 'js' };
      await client.query("insert into torpedo.jobs (id, owner_id, job, spec, status) values ($1, $2, 'code', $3, 'queued')", [id, await ownerId(), JSON.stringify(spec)]);
    } finally {
      await client.end();
    }
    // Something that makes a replica look at the queue.
    const kick = await a.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 1, workers: 1 } });
    assert.equal(kick.status, 201, kick.body);
    const done = await a.waitForJob(token, id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error ?? done));
    // setup ran (its result keys the output): the load in the compile pod saw it.
    assert.match((await a.call('GET', `/jobs/${id}/output`, { token })).body, /^2\t\d+/);
    assert.ok(mountsOf(id).has('compile'), 'a compile pod loaded it');
    await a.waitForJob(token, kick.json.id, 90_000);
  });

  test("a job's pod settings: within the operator's bounds they are stored, shown and on its pods; out of bounds or malformed, a 400 that says why", async () => {
    const pods = { cpu: '1500m', memory: '1Gi', nodeSelector: { disktype: 'ssd' }, tolerations: [{ key: 'spot', operator: 'Exists', effect: 'NoSchedule' }] };
    for (const [bad, message] of [
      [{ cpu: '3' }, /^pods: cpu 3 is out of bounds: this cluster allows more than 0 and at most 2 per worker$/],
      [{ nodeSelector: { zone: 'a' } }, /^pods: nodeSelector zone is not one users may set on this cluster \(allowed: only disktype\)$/],
      [{ priorityClassName: 'system-node-critical' }, /^pods: priorityClassName system-node-critical is not one users may pick on this cluster \(allowed: none\)$/],
      [{ imagePullSecrets: [{ name: 'creds' }] }, /imagePullSecrets/],
      [{ memory: 'a lot' }, /pods\/memory|pods: at memory/],
    ] as const) {
      const r = await a.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], pods: bad } });
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.body}`);
      assert.equal(r.json.error.code, 'TORPEDO_ERR_BAD_REQUEST', r.body);
      assert.match(r.json.error.message, message);
    }
    const submitted = await a.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], workers: 2, pods } });
    assert.equal(submitted.status, 201, submitted.body);
    const id = submitted.json.id as string;
    const done = await b.waitForJob(token, id, 90_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error ?? done));
    assert.deepEqual((await b.call('GET', `/jobs/${id}`, { token })).json.pods, pods);
    const created = fake.created.filter((o) => o.metadata.labels?.['torpedo/job-id'] === id && o.kind === 'Job');
    const workers = created.find((o) => o.metadata.name === jobObjectNames(id).workers)?.spec.template.spec;
    assert.deepEqual(workers?.containers[0].resources, { requests: { cpu: '1500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    for (const job of created) {
      assert.deepEqual(job.spec.template.spec.nodeSelector, { disktype: 'ssd' }, job.metadata.name);
      assert.deepEqual(job.spec.template.spec.tolerations, pods.tolerations, job.metadata.name);
    }
    // Running it again asks the same of its pods.
    const again = await b.call('POST', `/jobs/${id}/rerun`, { token });
    assert.equal(again.status, 201, again.body);
    assert.deepEqual((await a.call('GET', `/jobs/${again.json.id}`, { token })).json.pods, pods);
    assert.equal((await a.waitForJob(token, again.json.id as string, 90_000)).status, 'succeeded');
  });

  test('a job only some of whose worker pods start goes on with those; its events say what is missing, while it runs and after', async () => {
    let jobId = '';
    let first = '';
    fake.unpullable = (pod) => {
      if (pod.metadata.labels?.['torpedo/job-id'] !== jobId || pod.metadata.labels?.['app.kubernetes.io/component'] !== 'worker') return false;
      first ||= pod.metadata.name;
      return pod.metadata.name !== first;
    };
    try {
      const submitted = await a.call('POST', '/jobs', { token, json: { code: SLOW, language: 'js', inputs: ['lines40'], workers: 3, maps: 4 } });
      assert.equal(submitted.status, 201, submitted.body);
      jobId = submitted.json.id as string;
      const expected = /^2 of 3 worker pods not started after 5 s: 2 Pending: ImagePullBackOff: Back-off pulling image "torpedo:test"; the job goes on with 1$/;
      const running = await until('the event while the job runs', async () => {
        const j = (await b.call('GET', `/jobs/${jobId}`, { token })).json;
        return j.status === 'running' && j.events !== undefined ? j : undefined;
      });
      assert.match(running.events[0].message, expected);
      assert.ok(!Number.isNaN(Date.parse(running.events[0].at)));
      const done = await a.waitForJob(token, jobId, 90_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error ?? done));
      for (const m of [a, b]) {
        const job = (await m.call('GET', `/jobs/${jobId}`, { token })).json;
        assert.equal(job.events.length, 1);
        assert.match(job.events[0].message, expected);
        assert.deepEqual([...new Set(job.tasks.flatMap((t: { attempts: { worker: string }[] }) => t.attempts.map((x) => x.worker)))], [first]);
      }
    } finally {
      fake.unpullable = undefined;
    }
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
    assert.equal((await a.call('POST', `/jobs/${id}/cancel`, { token })).status, 409);
  });
});
