// The cluster path end to end in real containers: the manager (`torpedo manager` with
// TORPEDO_LAUNCHER=kubernetes, a process on this host running as the pods' uid, as the manager's
// pod does, on a throwaway PostgreSQL) against the fake API server whose kubelet runs every
// pod — compile, master, workers — as a podman container of the built image
// (test/support/fake-kube-podman.ts), with the pod's securityContext, env (the job's Secret, the
// pod's own IP), volumes (the data claim's subPaths, an emptyDir at /tmp) and limits, at an address
// of its own on a podman network of the test's own subnet (test/support/pod-network.ts: internal,
// with a blackhole route added before anything starts). Whole jobs go manager → master Job →
// workers Job and their output is byte for byte `torpedo run`'s on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureBundle } from '../src/job/probe-job.ts';
import { jobObjectNames } from '../src/kubernetes/names.ts';
import { MASTER_STATUS_FILE } from '../src/protocol/master-status.ts';
import { readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { containersUnavailable, podman, POD_UID, testImage } from './support/containers.ts';
import { FakeKubeApi, rbacFromManifests, torpedoMountPolicy, type KubeObject } from './support/fake-kube-api.ts';
import { ADMIN_PASSWORD, JWT_SECRET, resetPostgres } from './support/manager-harness.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';
import { PodNetwork } from './support/pod-network.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const NS = 'torpedo';
const MANAGER = `system:serviceaccount:${NS}:torpedo-manager`;
const SAMPLE = readFileSync(join(ROOT, 'examples', 'data', 'sample.txt'));
/** A word count that waits 25 ms a line: 400 lines in 8 maps over 2 workers last ~5 s, long enough to kill things. */
const PACED = `export default {
  async map(line, emit) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    for (const w of line.split(' ')) if (w) emit(w, 1);
  },
  reduce(word, counts, emit) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
};
`;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
const LINES = Array.from({ length: 400 }, (_, i) => Array.from({ length: 1 + (i % 5) }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' ')).join('\n') + '\n';

const unavailable = containersUnavailable();
let image = '';
let dir: string;
let home: string;
let network: PodNetwork | undefined;
let fake: FakeKubeApi;
let postgres: PostgresServer;
let manager: ManagerProcess;
let token: string;
let sampleOracle: string;
let pacedOracle: string;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The podman containers of job `id` (of one component), running or not. */
async function containersOf(id: string, component?: string): Promise<string[]> {
  const filters = [`--filter=label=torpedo/job-id=${id}`, ...(component !== undefined ? [`--filter=label=app.kubernetes.io/component=${component}`] : [])];
  const r = await podman(['ps', '--all', ...filters, '--format={{.Names}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

function podsOf(id: string, component: string): KubeObject[] {
  return fake.list('pods', NS).filter((p) => p.metadata.labels?.['torpedo/job-id'] === id && p.metadata.labels?.['app.kubernetes.io/component'] === component);
}

function explain(id: string): string {
  return fake
    .list('pods', NS)
    .filter((p) => p.metadata.labels?.['torpedo/job-id'] === id)
    .map((p) => `--- ${p.metadata.name} (${p.status?.phase})\n${fake.log(NS, p.metadata.name)}`)
    .join('\n');
}

async function oracle(name: string, job: string, input: Buffer | string): Promise<string> {
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, input);
  const out = join(dir, `${name}-oracle`);
  const r = await runCli(['run', job, '--input', file, '--output', out, '--reducers', '2', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  return readParts(out).join('');
}

async function submitPaced(): Promise<string> {
  const r = await api(manager.url, 'POST', '/jobs', token, { code: PACED, language: 'js', inputs: ['lines'], reducers: 2, workers: 2, maps: 8 });
  const compiles = fake.list('pods', NS).filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'compile');
  assert.equal(r.status, 201, `${r.text}\n${compiles.map((p) => `--- ${p.metadata.name}\n${fake.log(NS, p.metadata.name)}`).join('\n')}`);
  return r.json.id as string;
}

/** A worker pod whose container runs while the job still has maps to do. */
async function busyWorker(id: string): Promise<KubeObject> {
  return until('a worker container at work', async () => {
    const job = (await api(manager.url, 'GET', `/jobs/${id}`, token)).json;
    if (job.status !== 'queued' && job.status !== 'running') throw new Error(`job ${id} ${job.status}: ${JSON.stringify(job.error)}\n${explain(id)}\n${execFileSync('ls', ['-lanR', join(home, 'jobs', id)], { encoding: 'utf8' })}`);
    if (job.status !== 'running' || !job.tasks?.some((t: { attempts: { state: string }[] }) => t.attempts.some((a) => a.state === 'running'))) return undefined;
    if (job.phases.map.done > job.phases.map.total / 2) return undefined;
    return podsOf(id, 'worker').find((p) => p.status?.phase === 'Running' && fake.containerName(NS, p.metadata.name) !== undefined);
  });
}

describe('the cluster path in containers: every pod a podman container of the image', { skip: unavailable }, () => {
  before(async () => {
    image = (await testImage()).name;
    await ensureBundle(); // the manager's uid cannot write torpedo's build cache
    dir = tempDir('torpedo-k8s-containers-');
    chmodSync(dir, 0o755);
    // The data claim: the manager's home, its uid's (the manager keeps it to itself: mode 0700, umask 077).
    home = join(dir, 'data');
    mkdirSync(home);
    chownSync(home, POD_UID, POD_UID);
    network = await PodNetwork.create(image);
    const rbac = rbacFromManifests(
      ['manager-rbac.yaml', 'master-rbac.yaml'].map((f) => readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', f), 'utf8')),
      NS,
    );
    fake = await FakeKubeApi.start({ claims: { 'torpedo-data': home }, rbac, mountPolicy: torpedoMountPolicy, podSecurity: 'restricted', kubelet: 'podman', network, maxGraceMs: 5000 });
    postgres = await startPostgres();
    await resetPostgres(postgres.url);
    const kubeconfig = join(dir, 'manager-kubeconfig.yaml');
    copyFileSync(fake.kubeconfig(MANAGER, NS), kubeconfig);
    chmodSync(kubeconfig, 0o644);
    manager = await startManagerProcess(
      home,
      {
        DATABASE_URL: postgres.url,
        TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TORPEDO_JWT_SECRET: JWT_SECRET,
        TORPEDO_LAUNCHER: 'kubernetes',
        TORPEDO_K8S_IMAGE: image,
        TORPEDO_K8S_NAMESPACE: NS,
        // As deploy/kubernetes/base/manager-deployment.yaml sets them: the image's user (the default is 1000).
        TORPEDO_K8S_RUN_AS_USER: String(POD_UID),
        TORPEDO_K8S_RUN_AS_GROUP: String(POD_UID),
        KUBECONFIG: kubeconfig,
      },
      { asUid: POD_UID, cleanEnv: true },
    );
    token = (await api(manager.url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD })).json.token as string;
    assert.equal((await api(manager.url, 'POST', '/datasets?name=sample', token, SAMPLE.toString('utf8'))).status, 201);
    assert.equal((await api(manager.url, 'POST', '/datasets?name=lines', token, LINES)).status, 201);
    sampleOracle = await oracle('sample', 'wordcount', SAMPLE);
    const pacedFile = join(dir, 'paced.mjs');
    writeFileSync(pacedFile, PACED);
    pacedOracle = await oracle('lines', pacedFile, LINES);
  });

  after(async () => {
    if (manager !== undefined && manager.child.exitCode === null) {
      const exited = new Promise((r) => manager.child.once('exit', r));
      manager.child.kill('SIGTERM');
      await exited;
    }
    await fake?.close();
    network?.destroySync();
    await postgres?.stop();
    if (dir !== undefined) removeDir(dir);
  });

  test('a word count through the manager: master and workers ran as containers at their own addresses; the output is `torpedo run`’s', async () => {
    const submitted = await api(manager.url, 'POST', '/jobs', token, { example: 'wordcount', inputs: ['sample'], reducers: 2, workers: 2, maps: 3 });
    assert.equal(submitted.status, 201, submitted.text);
    const id = submitted.json.id as string;
    const done = await waitForJobEnd(manager.url, token, id, 120_000);
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error ?? done)}\n${explain(id)}`);
    assert.equal((await api(manager.url, 'GET', `/jobs/${id}/output`, token)).text, sampleOracle);
    // The master pod had an address of the test's network, and its workers were told it.
    const master = podsOf(id, 'master')[0];
    const ip = master?.status?.podIP as string;
    assert.match(ip, /^10\.89\.77\.\d+$/);
    const workersJob = fake.created.find((o) => o.kind === 'Job' && o.metadata.name === jobObjectNames(id).workers);
    assert.match(workersJob?.spec.template.spec.containers[0].args.join(' '), new RegExp(`--master http://${ip.replace(/\./g, '\\.')}:7070`));
    // Its pods mounted (bound into their containers) only its directory and its dataset, read-only.
    for (const [pod, mounts] of fake.allMounts()) {
      if (!pod.startsWith(jobObjectNames(id).master) && !pod.startsWith(jobObjectNames(id).workers)) continue;
      assert.deepEqual(mounts.map((m) => `${m.subPath}${m.readOnly ? ' ro' : ''}`).sort().map((m) => m.replace(/^datasets\/\d+\//, 'datasets/N/')), ['datasets/N/sample ro', `jobs/${id}`], pod);
    }
    // Nothing of the job is left as a container.
    await until('its containers to go', async () => ((await containersOf(id)).length === 0 ? true : undefined), 30_000);
  });

  test('a worker container killed (podman kill): its pod fails, a new one takes over, the output is the same; the containers ran as the pods say', async () => {
    const id = await submitPaced();
    const victim = await busyWorker(id);
    const name = fake.containerName(NS, victim.metadata.name) as string;
    // While it runs, the container is the pod: its user, root filesystem, capabilities, limits, address and env.
    const inspect = await podman(['inspect', '--format=json', name]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const c = JSON.parse(inspect.stdout)[0];
    assert.equal(c.Config.User, `${POD_UID}:${POD_UID}`);
    assert.equal(c.HostConfig.ReadonlyRootfs, true);
    assert.ok(c.HostConfig.SecurityOpt.includes('no-new-privileges'), c.HostConfig.SecurityOpt);
    assert.equal((await podman(['exec', name, 'sh', '-c', 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; id -G'])).stdout, `CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n${POD_UID}\n`);
    const limit = victim.spec.containers[0].resources.limits.memory as string;
    if (!fake.skippedLimits.has('memory (no memory cgroup controller)')) assert.equal(c.HostConfig.Memory, Number(limit.replace(/Mi$/, '')) * 1024 * 1024);
    assert.equal(c.NetworkSettings.Networks[network?.name ?? ''].IPAddress, victim.status.podIP);
    const env = (await podman(['exec', name, 'printenv', 'TORPEDO_TOKEN', 'TORPEDO_WORKER_ID'])).stdout.split('\n');
    const secret = fake.list('secrets', NS).find((s) => s.metadata.name === jobObjectNames(id).secret);
    assert.equal(env[0], Buffer.from(secret?.data?.['token'] ?? '', 'base64').toString('utf8'));
    assert.equal(env[1], victim.metadata.name);
    // The pod passes args, so the image's ENTRYPOINT runs: tini is PID 1 (and passes on the kubelet's SIGTERM).
    assert.match((await podman(['exec', name, 'cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' '), /^\/usr\/bin\/tini -- node \/app\/bin\/torpedo worker --master /);
    // The read-only root and the emptyDir at /tmp, from inside.
    assert.match((await podman(['exec', name, 'sh', '-c', 'touch /app/x 2>&1; touch /tmp/x && echo tmp-ok'])).stdout, /Read-only file system\n.*tmp-ok/s);

    assert.equal((await podman(['kill', name])).code, 0);
    const failed = await until('the killed pod to fail', async () => {
      const p = fake.get('pods', NS, victim.metadata.name);
      return p?.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(failed.status.containerStatuses[0].state.terminated.exitCode, 137);
    const done = await waitForJobEnd(manager.url, token, id, 120_000);
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error ?? done)}\n${explain(id)}`);
    assert.equal((await api(manager.url, 'GET', `/jobs/${id}/output`, token)).text, pacedOracle);
  });

  test('the master container killed: the master Job starts a new one, which reuses the committed maps; the output is the same', async () => {
    const id = await submitPaced();
    const jobDir = join(home, 'jobs', id);
    const first = await until('two maps committed', async () => {
      const job = (await api(manager.url, 'GET', `/jobs/${id}`, token)).json;
      return job.status === 'running' && job.phases.map.done >= 2 && job.phases.map.done < job.phases.map.total ? podsOf(id, 'master')[0] : undefined;
    });
    const committed = (await api(manager.url, 'GET', `/jobs/${id}`, token)).json.phases.map.done as number;
    assert.equal((await podman(['kill', fake.containerName(NS, first?.metadata.name ?? '') ?? ''])).code, 0);
    const done = await waitForJobEnd(manager.url, token, id, 120_000);
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error ?? done)}\n${explain(id)}`);
    const masters = podsOf(id, 'master');
    assert.equal(masters.length, 2, explain(id));
    assert.equal(masters.find((p) => p.metadata.name === first?.metadata.name)?.status?.phase, 'Failed');
    const status = JSON.parse(readFileSync(join(jobDir, MASTER_STATUS_FILE), 'utf8'));
    assert.ok(status.summary.phases.map.reusedTasks >= committed, `reused ${status.summary.phases.map.reusedTasks} of the ${committed} maps committed before the kill`);
    assert.equal((await api(manager.url, 'GET', `/jobs/${id}/output`, token)).text, pacedOracle);
  });

  test('cancel: the job’s objects go, and no container of it is left', async () => {
    const id = await submitPaced();
    await busyWorker(id);
    assert.ok((await containersOf(id, 'worker')).length > 0);
    const cancel = await api(manager.url, 'DELETE', `/jobs/${id}`, token);
    assert.equal(cancel.status, 200, cancel.text);
    await until('no container of the job', async () => ((await containersOf(id)).length === 0 ? true : undefined), 30_000);
    await until("the job's objects to go", async () => (fake.list('pods', NS).some((p) => p.metadata.labels?.['torpedo/job-id'] === id) ? undefined : true), 30_000);
    assert.deepEqual(fake.refusedPods, []);
  });
});
