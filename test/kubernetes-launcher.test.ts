// Jobs run through the Kubernetes path on the fake API server (test/support/fake-kube-api.ts): the
// manager's side creates the master Job and Secret; the fake's Job controller starts the master pod
// (`torpedo master --launcher kubernetes` as a local process); the master creates the workers Job,
// whose pods run `torpedo worker`. Outputs are compared with `torpedo run` on the same input.
// Pods see only what they mount (each runs in a mount namespace of its own where bubblewrap can
// make one), must mount only their job's directory and datasets (torpedoMountPolicy), and must
// pass the restricted Pod Security Standard.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClusterJobs } from '../src/kubernetes/cluster-jobs.ts';
import { kubeCall, kubeClients } from '../src/kubernetes/kube-client.ts';
import { kubeSettingsFromEnv } from '../src/kubernetes/kube-settings.ts';
import { jobObjectNames } from '../src/kubernetes/names.ts';
import { masterJob } from '../src/kubernetes/objects.ts';
import { PodCodeChecker } from '../src/kubernetes/pod-code-checker.ts';
import { readMasterSpec } from '../src/master/master-spec.ts';
import { processAlive, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { FakeKubeApi, rbacFromManifests, torpedoMountPolicy, type KubeObject } from './support/fake-kube-api.ts';

const NS = 'torpedo';
const MANAGER = `system:serviceaccount:${NS}:torpedo-manager`;
const MASTER = `system:serviceaccount:${NS}:torpedo-master`;

/** What deploy/ grants (its Roles, read from the manifests): the fake refuses anything else with 403. */
const RBAC = rbacFromManifests(
  ['manager-rbac.yaml', 'master-rbac.yaml', 'worker-service-account.yaml'].map((f) => readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', f), 'utf8')),
  NS,
);
/** What the launcher needs at least (less than deploy/ grants the manager). */
const MANAGER_NEEDS = ['create jobs', 'get jobs', 'delete jobs', 'create secrets', 'delete secrets', 'list pods', 'create networkpolicies', 'delete networkpolicies'];
const MASTER_NEEDS = ['create jobs', 'delete jobs', 'get pods', 'list pods', 'watch pods', 'delete pods', 'get pods/log'];

let dir: string;
let data: string;
let input: string;
let fake: FakeKubeApi;
let jobs: ClusterJobs;
let oracle: string[];
let bigInput: string;
let slowOracle: string[];
const PACED = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
const LOOKS_AROUND = join(ROOT, 'test', 'jobs', 'looks-around.mjs');

/** The manager's settings, pointing at the fake. */
const CLUSTER_ENV = (): NodeJS.ProcessEnv => ({ TORPEDO_K8S_IMAGE: 'torpedo:test', TORPEDO_K8S_DATA_PATH: data, TORPEDO_K8S_NAMESPACE: NS, KUBECONFIG: fake.kubeconfig(MANAGER, NS) });

/** A word count input big enough for several map tasks and a couple of seconds of work. */
function makeInput(path: string): void {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'Ünïcødé', 'naïve'];
  const lines: string[] = [];
  let x = 7;
  for (let i = 0; i < 6000; i++) {
    const n = 1 + (i % 9);
    const line: string[] = [];
    for (let j = 0; j < n; j++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      line.push(words[x % words.length] as string);
    }
    lines.push(line.join(' '));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The flags of the quick job (word count) and of the slow one (paced word count, ~3 s). */
const QUICK = (): string[] => ['wordcount', '--input', input, '--reducers', '3', '--split-size', '8KB', '--workers', '3'];
// A lease far longer than the tests: a death noticed in time was noticed through the pod watch.
const SLOW = (): string[] => [PACED, '--input', bigInput, '--reducers', '2', '--split-size', '128KB', '--workers', '3', '--lease-timeout', '60000'];

/** Prepares a job directory on the "volume" as the manager would (`torpedo run --prepare-only`). */
async function prepare(id: string, flags: string[]): Promise<{ jobDir: string; output: string; statusFile: string }> {
  const output = join(data, 'jobs', id, 'output');
  mkdirSync(join(data, 'jobs', id), { recursive: true });
  const r = await runCli(['run', ...flags, '--output', output, '--prepare-only']);
  assert.equal(r.code, 0, r.stderr);
  const jobDir = r.stdout.trim();
  // The job id the launcher labels things with is the one in job.json.
  const spec = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { jobId: string };
  spec.jobId = id;
  writeFileSync(join(jobDir, 'job.json'), JSON.stringify(spec));
  return { jobDir, output, statusFile: join(data, 'jobs', id, 'master-status.json') };
}

function masterPods(id: string): KubeObject[] {
  return fake.list('pods', NS).filter((p) => p.metadata.labels?.['torpedo/job-id'] === id && p.metadata.labels?.['app.kubernetes.io/component'] === 'master');
}

function workerPods(id: string): KubeObject[] {
  return fake.list('pods', NS).filter((p) => p.metadata.labels?.['torpedo/job-id'] === id && p.metadata.labels?.['app.kubernetes.io/component'] === 'worker');
}

async function masterJobEnd(id: string, timeoutMs = 90_000): Promise<'succeeded' | 'failed'> {
  return fake.waitFor(
    `the master Job of ${id} to end`,
    () => {
      const job = fake.get('jobs', NS, jobObjectNames(id).master);
      const c = (job?.status?.conditions ?? []) as { type: string; status: string }[];
      if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return 'succeeded';
      if (c.some((x) => x.type === 'Failed' && x.status === 'True')) return 'failed';
      return undefined;
    },
    timeoutMs,
  );
}

/** A worker that, by the master's last status, is running an attempt (and whose pod runs here). */
async function busyWorker(statusFile: string): Promise<string> {
  return fake.waitFor('a worker running a map task', () => {
    const snapshot = jobs.readStatus(statusFile)?.snapshot;
    if (snapshot === undefined || snapshot.phases.map.done > snapshot.phases.map.total / 2) return undefined;
    const busy = snapshot.tasks.flatMap((t) => t.attempts.filter((a) => a.state === 'running').map((a) => a.worker));
    return busy.find((w) => fake.pid(NS, w) !== undefined);
  });
}

/** When the master logged that `worker` exited (its log lines start with an ISO time). */
function exitNoticedAt(id: string, worker: string): number | undefined {
  const line = explain(id)
    .split('\n')
    .find((l) => l.includes(`worker ${worker} exited`));
  return line === undefined ? undefined : Date.parse(line.split(' ')[0] as string);
}

function committedMaps(jobDir: string): number {
  return existsSync(join(jobDir, 'map')) ? readdirSync(join(jobDir, 'map')).filter((f) => f.endsWith('.run')).length : 0;
}

function explain(id: string): string {
  return masterPods(id)
    .map((p) => `--- ${p.metadata.name} (${p.status?.phase})\n${fake.log(NS, p.metadata.name)}`)
    .join('\n');
}

before(async () => {
  dir = tempDir('torpedo-k8s-');
  data = join(dir, 'data');
  // The manager's layout: datasets/<owner>/<name>, jobs/<id>/.
  mkdirSync(join(data, 'datasets', '1'), { recursive: true });
  input = join(data, 'datasets', '1', 'input.txt');
  makeInput(input);
  bigInput = join(data, 'datasets', '1', 'big-input.txt');
  writeFileSync(bigInput, Array.from({ length: 5 }, () => readFileSync(input, 'utf8')).join(''));
  // The same jobs with `torpedo run`: what the cluster runs must give the same bytes.
  const [quick, slow] = await Promise.all([
    runCli(['run', ...QUICK(), '--output', join(dir, 'oracle'), '--no-progress']),
    runCli(['run', ...SLOW(), '--output', join(dir, 'slow-oracle'), '--no-progress']),
  ]);
  assert.equal(quick.code, 0, quick.stderr);
  assert.equal(slow.code, 0, slow.stderr);
  oracle = readParts(join(dir, 'oracle'));
  slowOracle = readParts(join(dir, 'slow-oracle'));
  fake = await FakeKubeApi.start({ claims: { 'torpedo-data': data }, freePortEnv: ['TORPEDO_MASTER_PORT'], rbac: RBAC, mountPolicy: torpedoMountPolicy, podSecurity: 'restricted' });
  jobs = ClusterJobs.fromEnv(CLUSTER_ENV());
});

after(async () => {
  await fake?.close();
  removeDir(dir);
});

describe('a job on the fake cluster', () => {
  test('master Job → master pod → workers Job → worker pods: the output equals `torpedo run`, and only granted calls are made', async () => {
    const id = 'job-k8s-whole';
    const { jobDir, output, statusFile } = await prepare(id, QUICK());
    const specCopy = join(dir, `${id}.json`); // the job directory goes at commit
    copyFileSync(join(jobDir, 'job.json'), specCopy);
    await jobs.start({ jobId: id, jobDir, statusFile });
    assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
    assert.deepEqual(readParts(output), oracle);
    const status = jobs.readStatus(statusFile);
    assert.equal(status?.state, 'succeeded');
    assert.equal(status?.summary?.status, 'succeeded');
    assert.deepEqual(await jobs.masterState(id), { state: 'succeeded' });
    // The workers were pods of the workers Job (their ids are pod names), which the master deleted at the end.
    const workers = status?.summary?.workers.map((w) => w.id) ?? [];
    assert.ok(workers.length >= 1 && workers.every((w) => w.startsWith(`${jobObjectNames(id).workers}-`)), workers.join(' '));
    assert.match(explain(id), /created Job torpedo-job-k8s-whole-workers \(3 workers\)/);
    assert.equal(fake.get('jobs', NS, jobObjectNames(id).workers), undefined, 'the workers Job is gone');
    // Every call was allowed (the fake enforces RBAC), and workers made none.
    assert.deepEqual(
      fake.calls.filter((c) => c.status === 403),
      [],
    );
    const identities = new Set(fake.calls.map((c) => c.identity));
    assert.deepEqual([...identities].sort(), [MANAGER, MASTER].sort());
    const made = (who: string): string[] => [...new Set(fake.calls.filter((c) => c.identity === who).map((c) => `${c.verb} ${c.resource}`))].sort();
    for (const call of made(MANAGER)) assert.ok(MANAGER_NEEDS.includes(call), `the manager made ${call}`);
    for (const call of made(MASTER)) assert.ok(MASTER_NEEDS.includes(call), `the master made ${call}`);
    for (const needed of ['create jobs', 'delete jobs', 'get pods', 'list pods', 'watch pods']) assert.ok(made(MASTER).includes(needed), `the master did ${needed}`);
    assert.ok(fake.calls.every((c) => c.namespace === NS), 'everything in one namespace');
    assert.deepEqual(fake.refusedPods, [], 'every pod passes the restricted Pod Security Standard');

    // Every pod mounted its job's directory and its input, nothing else of the volume.
    const pods = fake.list('pods', NS).filter((p) => p.metadata.labels?.['torpedo/job-id'] === id);
    const mounted = [...fake.allMounts()].filter(([name]) => name.startsWith(`torpedo-${id}-`));
    assert.ok(mounted.length >= 1 + 3 && pods.length >= 1, `the master and three workers started (${mounted.length})`);
    for (const [name, mounts] of mounted) {
      assert.deepEqual(
        mounts.map((m) => `${m.subPath} ${m.mountPath}${m.readOnly ? ' ro' : ''}`),
        [`jobs/${id} ${join(data, 'jobs', id)}`, `datasets/1/input.txt ${input} ro`],
        name,
      );
    }

    // `torpedo k8s render-job` shows exactly these objects (bar what the API server and the
    // master fill in: uids, the token, the master's address).
    const created = fake.created.filter((o) => o.metadata.labels?.['torpedo/job-id'] === id);
    assert.deepEqual(
      created.map((o) => `${o.kind} ${o.metadata.name}`),
      [`Job ${jobObjectNames(id).master}`, `NetworkPolicy ${jobObjectNames(id).network}`, `Secret ${jobObjectNames(id).secret}`, `Job ${jobObjectNames(id).workers}`],
    );
    // The workers' policy: owned by the master Job (so it goes with it), created before the Secret.
    const policy = created[1];
    assert.equal(policy?.metadata.ownerReferences?.[0]?.uid, created[0]?.metadata.uid);
    assert.deepEqual(policy?.spec.podSelector.matchLabels['torpedo/job-id'], id);
    const workersArgs = (created[3]?.spec.template.spec.containers[0].args ?? []) as string[];
    const rendered = await runCli(['k8s', 'render-job', specCopy, '-o', 'json', '-n', NS, '--job-id', id, '--status-file', statusFile, '--master-url', workersArgs[2] ?? ''], {
      env: { TORPEDO_K8S_IMAGE: 'torpedo:test', TORPEDO_K8S_DATA_PATH: data, TORPEDO_K8S_NAMESPACE: NS },
    });
    assert.equal(rendered.code, 0, rendered.stderr);
    const [secret, renderedMaster, renderedPolicy, renderedWorkers] = (JSON.parse(rendered.stdout) as { items: KubeObject[] }).items;
    assert.deepEqual(renderedPolicy?.spec, policy?.spec);
    assert.deepEqual(secret?.metadata.labels, created[2]?.metadata.labels);
    assert.equal(secret?.metadata.ownerReferences?.[0]?.name, jobObjectNames(id).master);
    for (const [mine, real] of [
      [renderedMaster, created[0]],
      [renderedWorkers, created[3]],
    ] as const) {
      assert.deepEqual(mine?.metadata.labels, real?.metadata.labels);
      assert.deepEqual(mine?.spec.template.spec, real?.spec.template.spec);
      for (const field of ['backoffLimit', 'parallelism', 'ttlSecondsAfterFinished', 'podFailurePolicy'] as const) {
        if (mine?.spec[field] !== undefined) assert.deepEqual(mine.spec[field], real?.spec[field], field);
      }
    }
  });

  test('a worker pod killed mid-task is noticed through the watch within seconds (not the 60 s lease); the job succeeds with the same output', async () => {
    const id = 'job-k8s-worker-killed';
    const { jobDir, output, statusFile } = await prepare(id, SLOW());
    await jobs.start({ jobId: id, jobDir, statusFile });
    const victim = await busyWorker(statusFile);
    const killedAt = Date.now();
    fake.killContainer(NS, victim, 'SIGKILL');
    assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
    const noticed = exitNoticedAt(id, victim);
    assert.ok(noticed !== undefined && noticed - killedAt < 5000, `the master noticed ${victim}'s death ${noticed === undefined ? 'never' : `${noticed - killedAt} ms`} after the kill`);
    assert.match(explain(id), new RegExp(`worker ${victim} exited \\(SIGKILL\\)`));
    const summary = jobs.readStatus(statusFile)?.summary;
    assert.ok((summary?.phases.map.lostAttempts ?? 0) + (summary?.phases.reduce.lostAttempts ?? 0) >= 1, 'the killed attempt was lost and re-run');
    assert.deepEqual(readParts(output), slowOracle);
  });

  test('the master pod killed mid-job is replaced by the Job controller; the new master resumes (committed maps reused) with the same output', async () => {
    const id = 'job-k8s-master-killed';
    const { jobDir, output, statusFile } = await prepare(id, SLOW());
    await jobs.start({ jobId: id, jobDir, statusFile });
    await fake.waitFor('two committed map outputs', () => (committedMaps(jobDir) >= 2 ? true : undefined));
    const first = masterPods(id)[0]?.metadata.name ?? '';
    const committed = committedMaps(jobDir);
    fake.killContainer(NS, first, 'SIGKILL');
    assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
    const pods = masterPods(id);
    assert.equal(pods.length, 2, 'a second master pod');
    assert.equal(pods.find((p) => p.metadata.name === first)?.status?.phase, 'Failed');
    assert.equal(pods.find((p) => p.metadata.name !== first)?.status?.phase, 'Succeeded');
    assert.equal(fake.get('jobs', NS, jobObjectNames(id).master)?.status?.failed, 1);
    const summary = jobs.readStatus(statusFile)?.summary;
    assert.ok((summary?.phases.map.reusedTasks ?? 0) >= committed, `reused ${summary?.phases.map.reusedTasks} of the ${committed} maps committed before the kill`);
    // The new master (a new address) replaced the first one's workers Job before creating its own.
    const second = fake.log(NS, pods.find((p) => p.metadata.name !== first)?.metadata.name ?? '');
    assert.ok(second.indexOf(`deleted Job ${jobObjectNames(id).workers}`) < second.indexOf(`created Job ${jobObjectNames(id).workers}`), second);
    assert.deepEqual(readParts(output), slowOracle);
  });

  test('the pod watch survives 410 Gone (as an ERROR event and as an HTTP 410) and dropped connections: it re-lists and still sees deaths', async () => {
    const id = 'job-k8s-gone';
    const { jobDir, output, statusFile } = await prepare(id, SLOW());
    await jobs.start({ jobId: id, jobDir, statusFile });
    await busyWorker(statusFile);
    const lists = (): number => fake.calls.filter((c) => c.identity === MASTER && c.verb === 'list' && c.resource === 'pods').length;
    const gone = (): number => fake.calls.filter((c) => c.identity === MASTER && c.verb === 'watch' && c.status === 410).length;
    const before = lists();
    fake.goneAs = 'event';
    fake.expireHistory();
    await fake.waitFor('a re-list after the 410 event', () => (lists() > before && gone() >= 1 ? true : undefined), 10_000);
    fake.goneAs = 'status';
    fake.expireHistory();
    await fake.waitFor('a re-list after the HTTP 410', () => (lists() > before + 1 && gone() >= 2 ? true : undefined), 10_000);
    fake.dropWatches();
    const victim = await busyWorker(statusFile);
    const killedAt = Date.now();
    fake.killContainer(NS, victim, 'SIGKILL');
    assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
    fake.goneAs = 'event';
    const noticed = exitNoticedAt(id, victim);
    assert.ok(noticed !== undefined && noticed - killedAt < 5000, `noticed ${noticed === undefined ? 'never' : `${noticed - killedAt} ms`} after the kill`);
    assert.deepEqual(readParts(output), slowOracle);
  });

  test('cancel deletes the master Job, the workers Job, the Secret, the NetworkPolicy and every pod, and their processes end', async () => {
    const id = 'job-k8s-cancel';
    const { jobDir, statusFile } = await prepare(id, SLOW());
    await jobs.start({ jobId: id, jobDir, statusFile });
    await busyWorker(statusFile);
    const pids = [...masterPods(id), ...workerPods(id)].map((p) => fake.pid(NS, p.metadata.name)).filter((p): p is number => p !== undefined);
    assert.ok(pids.length >= 4, `a master and three workers run (${pids.length})`);
    assert.ok(fake.get('secrets', NS, jobObjectNames(id).secret) !== undefined);
    assert.ok(fake.get('networkpolicies', NS, jobObjectNames(id).network) !== undefined);
    await jobs.cancel(id);
    const mine = (o: KubeObject): boolean => o.metadata.labels?.['torpedo/job-id'] === id;
    await fake.waitFor('every object of the job to be gone', () => (['jobs', 'pods', 'secrets', 'networkpolicies'] as const).every((k) => !fake.list(k, NS).some(mine)) || undefined, 15_000);
    await fake.waitFor('every process of the job to end', () => pids.every((pid) => !processAlive(pid)) || undefined, 10_000);
    assert.deepEqual(await jobs.masterState(id), { state: 'missing' });
    await jobs.cancel(id); // idempotent
  });

  test('a master pod that cannot start (an image it cannot pull) fails its job after the start timeout, with the reason; its Job is removed', async () => {
    const id = 'job-k8s-unpullable';
    const { jobDir, statusFile } = await prepare(id, QUICK());
    const impatient = ClusterJobs.fromEnv({ ...CLUSTER_ENV(), TORPEDO_K8S_START_TIMEOUT: '1' });
    fake.unpullable = (pod) => pod.metadata.labels?.['torpedo/job-id'] === id;
    try {
      await impatient.start({ jobId: id, jobDir, statusFile });
      let end: Awaited<ReturnType<ClusterJobs['observe']>>['end'];
      const deadline = Date.now() + 20_000;
      while (end === undefined && Date.now() < deadline) {
        end = (await impatient.observe(id, statusFile, true)).end;
        if (end === undefined) await new Promise((r) => setTimeout(r, 300));
      }
      assert.equal(end?.status, 'failed');
      assert.equal(end?.error?.code, 'TORPEDO_ERR_CLUSTER');
      assert.match(end?.error?.message ?? '', /^the master could not start: pod torpedo-job-k8s-unpullable-master-\w+: ImagePullBackOff: Back-off pulling image "torpedo:test"/);
      await fake.waitFor('the master Job to go', () => (fake.get('jobs', NS, jobObjectNames(id).master) === undefined ? true : undefined), 10_000);
    } finally {
      fake.unpullable = undefined;
    }
  });

  test('worker pods that never start (unschedulable, over a pod quota) fail the job after TORPEDO_K8S_START_TIMEOUT: TORPEDO_ERR_PODS_NOT_STARTED with the reasons', async () => {
    const id = 'job-k8s-workers-pending';
    const { jobDir, statusFile } = await prepare(id, QUICK());
    const impatient = ClusterJobs.fromEnv({ ...CLUSTER_ENV(), TORPEDO_K8S_START_TIMEOUT: '2' });
    const workersOf = (o: KubeObject): boolean => o.metadata.labels?.['torpedo/job-id'] === id && o.metadata.labels?.['app.kubernetes.io/component'] === 'worker';
    fake.unschedulable = (pod) => (workersOf(pod) ? '0/3 nodes are available: 3 Insufficient cpu.' : undefined);
    fake.podQuota = (job) => (workersOf(job) ? 2 : undefined);
    try {
      await impatient.start({ jobId: id, jobDir, statusFile });
      assert.equal(await masterJobEnd(id, 30_000), 'failed', explain(id));
      const end = (await impatient.observe(id, statusFile, true)).end;
      assert.equal(end?.status, 'failed');
      assert.equal(end?.error?.code, 'TORPEDO_ERR_PODS_NOT_STARTED', explain(id));
      assert.match(
        end?.error?.message ?? '',
        /^0 of 3 worker pods started in 2 s: 2 Pending: 0\/3 nodes are available: 3 Insufficient cpu\.; 1 not created \(a ResourceQuota or admission refused them\? `kubectl describe job torpedo-job-k8s-workers-pending-workers` says why\)$/,
      );
      await fake.waitFor('the workers Job to go', () => (fake.get('jobs', NS, jobObjectNames(id).workers) === undefined ? true : undefined), 10_000);
    } finally {
      fake.unschedulable = undefined;
      fake.podQuota = undefined;
    }
  });

  test('a job with only some worker pods started goes on with those, and its events say what is missing', async () => {
    const id = 'job-k8s-workers-partial';
    const { jobDir, output, statusFile } = await prepare(id, SLOW());
    const impatient = ClusterJobs.fromEnv({ ...CLUSTER_ENV(), TORPEDO_K8S_START_TIMEOUT: '2' });
    const pullable = new Set<string>();
    fake.unpullable = (pod) => {
      if (pod.metadata.labels?.['torpedo/job-id'] !== id || pod.metadata.labels?.['app.kubernetes.io/component'] !== 'worker') return false;
      if (pullable.size === 0) pullable.add(pod.metadata.name);
      return !pullable.has(pod.metadata.name);
    };
    try {
      await impatient.start({ jobId: id, jobDir, statusFile });
      assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
      assert.deepEqual(readParts(output), slowOracle);
      const summary = impatient.readStatus(statusFile)?.summary;
      assert.deepEqual(summary?.workers.map((w) => w.id), [...pullable], 'the one worker that started did the whole job');
      assert.deepEqual(
        summary?.events?.map((e) => e.message),
        ['2 of 3 worker pods not started after 2 s: 2 Pending: ImagePullBackOff: Back-off pulling image "torpedo:test"; the job goes on with 1'],
      );
    } finally {
      fake.unpullable = undefined;
    }
  });

  test("a pod sees only its job's directory and inputs: not other jobs', not other datasets; its inputs are read-only", async (t) => {
    if (!fake.isolated) return t.skip('bubblewrap cannot make mount namespaces here: the fake only checks the mounts');
    mkdirSync(join(data, 'jobs', 'job-k8s-other'), { recursive: true });
    writeFileSync(join(data, 'jobs', 'job-k8s-other', 'secret.txt'), 'not yours');
    mkdirSync(join(data, 'datasets', '2'), { recursive: true });
    writeFileSync(join(data, 'datasets', '2', 'private.txt'), 'not yours either');
    const one = join(data, 'datasets', '1', 'one-line.txt');
    writeFileSync(one, 'one line\n');
    const id = 'job-k8s-looks';
    const own = join(data, 'jobs', id);
    const params = [
      `list=${join(data, 'jobs')},${join(data, 'datasets')},${join(data, 'datasets', '1')}`,
      `read=${join(data, 'jobs', 'job-k8s-other', 'secret.txt')},${join(data, 'datasets', '2', 'private.txt')},${input},${one}`,
      `write=${join(own, 'probe.txt')},${join(data, 'datasets', '1', 'probe.txt')},${join(data, 'probe.txt')}`,
    ];
    const { output } = await prepare(id, [LOOKS_AROUND, '--input', one, '--reducers', '1', '--maps', '1', '--workers', '1', '--no-sandbox', ...params.flatMap((p) => ['--param', p])]);
    await jobs.start({ jobId: id, jobDir: join(output, '_temporary'), statusFile: join(own, 'master-status.json') });
    assert.equal(await masterJobEnd(id), 'succeeded', explain(id));
    const seen = new Map(readParts(output).join('').trim().split('\n').map((l) => l.split('\t') as [string, string]));
    assert.deepEqual(Object.fromEntries(seen), {
      [`list ${join(data, 'jobs')}`]: id,
      [`list ${join(data, 'datasets')}`]: '1',
      [`list ${join(data, 'datasets', '1')}`]: 'one-line.txt',
      [`read ${join(data, 'jobs', 'job-k8s-other', 'secret.txt')}`]: 'ENOENT',
      [`read ${join(data, 'datasets', '2', 'private.txt')}`]: 'ENOENT',
      [`read ${input}`]: 'ENOENT',
      [`read ${one}`]: 'ok',
      [`write ${join(own, 'probe.txt')}`]: 'ok',
      [`write ${join(data, 'datasets', '1', 'probe.txt')}`]: 'EROFS',
      [`write ${join(data, 'probe.txt')}`]: 'EROFS',
    });
  });

  test('the fake refuses what the cluster would: a pod mounting the whole claim (by the tests\' policy), an invalid object (422), a pod breaking restricted Pod Security', async () => {
    const id = 'job-k8s-whole-claim';
    const { jobDir, statusFile } = await prepare(id, QUICK());
    const settings = kubeSettingsFromEnv(CLUSTER_ENV());
    const { batch, networking } = kubeClients(settings);
    const body = masterJob({ settings, namespace: NS, jobId: id, jobDir, statusFile, spec: readMasterSpec(jobDir) });
    const container = body.spec?.template.spec?.containers[0];
    if (container !== undefined) container.volumeMounts = [{ name: 'data', mountPath: data }, { name: 'tmp', mountPath: '/tmp' }];
    await kubeCall('create', () => batch.createNamespacedJob({ namespace: NS, body }));
    const refused = await fake.waitFor('the master pod to fail', () => masterPods(id).find((p) => p.status?.phase === 'Failed'));
    assert.equal(refused.status?.reason, 'MountRefused');
    assert.match(refused.status?.message ?? '', /the whole claim/);
    await kubeCall('delete', () => batch.deleteNamespacedJob({ name: jobObjectNames(id).master, namespace: NS, propagationPolicy: 'Background' }));

    await assert.rejects(
      kubeCall('create', () => networking.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: 'bad' }, spec: { podSelector: {}, policyTypes: ['Sideways'] } } as never })),
      (e: Error & { code?: number }) => e.code === 422 && /Sideways|policyTypes/.test(e.message),
    );

    const rootJob = masterJob({ settings, namespace: NS, jobId: 'job-k8s-root', jobDir, statusFile, spec: readMasterSpec(jobDir) });
    const podSpec = rootJob.spec?.template.spec;
    if (podSpec?.securityContext !== undefined) podSpec.securityContext = { ...podSpec.securityContext, runAsNonRoot: false };
    await kubeCall('create', () => batch.createNamespacedJob({ namespace: NS, body: rootJob }));
    const why = await fake.waitFor('the pod to be refused', () => fake.refusedPods.find((r) => r.job === jobObjectNames('job-k8s-root').master));
    assert.match(why.message, /violates PodSecurity "restricted:latest": runAsNonRoot != true/);
    assert.equal(masterPods('job-k8s-root').length, 0);
    await kubeCall('delete', () => batch.deleteNamespacedJob({ name: jobObjectNames('job-k8s-root').master, namespace: NS, propagationPolicy: 'Background' }));
  });
});

describe('submitted code, checked in a compile pod (PodCodeChecker)', () => {
  const LIMITS = { maxCompiles: 2, maxQueuedCompiles: 16, compileTimeoutMs: 60_000 };
  const checker = (over: Partial<typeof LIMITS> = {}, env: NodeJS.ProcessEnv = {}): PodCodeChecker => {
    const settings = kubeSettingsFromEnv({ ...CLUSTER_ENV(), ...env });
    return new PodCodeChecker({ settings, clients: kubeClients(settings), limits: { ...LIMITS, ...over } });
  };
  /** A submission as the manager lays it out: jobs/<id>/job.ts (or .mjs), and jobs/<id>/bundle/. */
  const submission = (id: string, code: string, language: 'ts' | 'js' = 'ts') => {
    const home = join(data, 'jobs', id);
    mkdirSync(join(home, 'bundle'), { recursive: true });
    const name = language === 'ts' ? 'job.ts' : 'job.mjs';
    writeFileSync(join(home, name), code);
    return { jobId: id, ownerId: 1, source: join(home, name), bundle: join(home, 'bundle', 'job.mjs'), typecheck: language === 'ts', name, relativeTo: home };
  };
  const compileObjects = (id: string): KubeObject[] => (['jobs', 'pods', 'networkpolicies'] as const).flatMap((k) => fake.list(k, NS)).filter((o) => o.metadata.labels?.['torpedo/job-id'] === id);

  test('a syntax error is TORPEDO_ERR_JOB_SYNTAX with file:line, as locally; the pod mounted only the submission and its bundle directory; its Job and NetworkPolicy go', async () => {
    const id = 'job-check-syntax';
    const c = submission(id, readFileSync(join(ROOT, 'test', 'jobs', 'syntax-error.ts'), 'utf8'));
    await assert.rejects(checker().check(c), (e: Error & { code?: string }) => e.code === 'TORPEDO_ERR_JOB_SYNTAX' && /^job\.ts:5:\d+/m.test(e.message));
    const made = fake.created.filter((o) => o.metadata.labels?.['torpedo/job-id'] === id).map((o) => `${o.kind} ${o.metadata.name}`);
    assert.deepEqual(made, [`Job ${jobObjectNames(id).compile}`, `NetworkPolicy ${jobObjectNames(id).compile}`]);
    const policy = fake.created.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === jobObjectNames(id).compile);
    assert.deepEqual(policy?.spec, { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': 'compile', 'torpedo/job-id': id } }, policyTypes: ['Ingress', 'Egress'] });
    const pod = [...fake.allMounts()].find(([name]) => name.startsWith(`${jobObjectNames(id).compile}-`));
    assert.deepEqual(
      pod?.[1].map((m) => `${m.subPath}${m.readOnly ? ' ro' : ''}`),
      [`jobs/${id} ro`, `jobs/${id}/bundle`],
    );
    await fake.waitFor('the compile Job, its pod and policy to go', () => (compileObjects(id).length === 0 ? true : undefined), 10_000);
    assert.ok(!existsSync(join(data, 'jobs', id, 'bundle', 'check.json')), 'the answer is removed');
    // The compile pod used no API: the manager made every call.
    assert.ok(!fake.calls.some((x) => x.identity !== MANAGER && x.identity !== MASTER));
  });

  test('a type error and a module without map are refused with their codes; one without reduce is seen as such (map-only); a good module passes, with its setup seen', async () => {
    await assert.rejects(checker().check(submission('job-check-types', readFileSync(join(ROOT, 'test', 'jobs', 'type-error.ts'), 'utf8'))), (e: Error & { code?: string }) =>
      e.code === 'TORPEDO_ERR_JOB_SYNTAX' && /job\.ts:5:\d+: error TS2345/.test(e.message),
    );
    await assert.rejects(checker().check(submission('job-check-shape', 'export default { reduce() {} };\n', 'js')), { code: 'TORPEDO_ERR_JOB_SHAPE' });
    assert.deepEqual(await checker().check(submission('job-check-map-only', 'export default { map() {} };\n', 'js')), { hasSetup: false, hasReduce: false });
    const good = submission('job-check-good', 'export default { setup() { return 1; }, map(line, emit) { emit(line, 1); }, reduce(k, v, emit) { emit(k, v.length); } };\n', 'js');
    assert.deepEqual(await checker().check(good), { hasSetup: true });
    assert.ok(readFileSync(good.bundle, 'utf8').length > 0, 'the bundle was written');
    // Loading an existing bundle alone (a job stored before its load was kept).
    assert.deepEqual(await checker().probe({ jobId: 'job-check-good', bundle: good.bundle }), { hasSetup: true });
  });

  test('at most maxCompiles compile pods at once and maxQueuedCompiles waiting: beyond, 429 with Retry-After', async () => {
    const capped = checker({ maxCompiles: 1, maxQueuedCompiles: 0 });
    const first = capped.check(submission('job-check-cap-1', 'export default { map() {}, reduce() {} };\n', 'js'));
    await assert.rejects(capped.check(submission('job-check-cap-2', 'export default { map() {}, reduce() {} };\n', 'js')), (e: Error & { code?: string; details?: { retryAfterSeconds?: number } }) => e.code === 'TORPEDO_ERR_RATE_LIMITED' && e.details?.retryAfterSeconds === 5);
    assert.deepEqual(await first, { hasSetup: false });
  });

  test('a compile pod that cannot start is a clear TORPEDO_ERR_CLUSTER, and its Job goes', async () => {
    const id = 'job-check-unpullable';
    fake.unpullable = (pod) => pod.metadata.labels?.['torpedo/job-id'] === id;
    try {
      await assert.rejects(checker().check(submission(id, 'export default { map() {}, reduce() {} };\n', 'js')), (e: Error & { code?: string }) =>
        e.code === 'TORPEDO_ERR_CLUSTER' && /^the compile pod could not start: pod torpedo-job-check-unpullable-compile-\w+: ImagePullBackOff/.test(e.message),
      );
    } finally {
      fake.unpullable = undefined;
    }
    await fake.waitFor('the compile Job to go', () => (compileObjects(id).length === 0 ? true : undefined), 10_000);
  });
});
