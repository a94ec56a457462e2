// The objects the Kubernetes launcher creates, validated against the official API schemas
// (kubernetes-models), plus checks of what matters: restarts, ownership, secrets, non-root, the
// restricted Pod Security Standard, per-job mounts of the data volume (never the whole claim),
// NetworkPolicies, compile pods, resources from the job's settings, labels.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { V1Job, V1PodSpec } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Secret } from 'kubernetes-models/v1/Secret';
import { codeCheckDeadlineSeconds, codeCheckJob } from '../src/kubernetes/code-check-job.ts';
import { kubeSettingsFromEnv } from '../src/kubernetes/kube-settings.ts';
import { jobLabels, jobObjectNames, jobSelector } from '../src/kubernetes/names.ts';
import { compileNetworkPolicy, workersNetworkPolicy } from '../src/kubernetes/network-policies.ts';
import { jobSecret, masterJob, ownerReference, workerMemoryBytes, workersJob } from '../src/kubernetes/objects.ts';
import { jobMounts } from '../src/kubernetes/pod-mounts.ts';
import { resolveJobPods } from '../src/kubernetes/pod-policy.ts';
import type { MasterSpec } from '../src/master/master-spec.ts';
import { removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { restrictedViolations } from './support/fake-kube-admission.ts';

const MIB = 2 ** 20;
const settings = kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'registry.example/torpedo:0.1.0', TORPEDO_HOME: '/data' });
const NS = 'torpedo';
const JOB_ID = 'job-mabc123-0f1e2d3c';

function spec(over: Partial<MasterSpec> = {}): MasterSpec {
  return {
    jobId: JOB_ID,
    job: 'wordcount',
    jobName: 'wordcount',
    inputs: ['/data/datasets/1/books'],
    output: `/data/jobs/${JOB_ID}/output`,
    reducers: 3,
    splitSize: null,
    maps: null,
    params: {},
    splits: [
      { file: '/data/datasets/1/books', start: 0, end: 100 },
      { file: '/data/datasets/1/books', start: 100, end: 200 },
    ],
    hasSetup: false,
    workers: 4,
    memoryBytes: 64 * MIB,
    maxRecordBytes: 256 * MIB,
    mergeFactor: 100,
    logCapBytes: 1 << 20,
    maxAttempts: 3,
    skipBadRecords: false,
    backupTasks: true,
    heartbeatMs: 1000,
    leaseTimeoutMs: 30_000,
    taskTimeoutMs: 0,
    sandbox: true,
    workerMemoryBytes: 0,
    inputCompression: 'auto',
    inputFormat: 'auto',
    csvDelimiter: 'auto',
    csvHeader: true,
    csvMultiline: false,
    outputFormat: 'text',
    outputCompression: 'none',
    ...over,
  };
}

const OWNER = ownerReference({ apiVersion: 'batch/v1', kind: 'Job', name: jobObjectNames(JOB_ID).master, uid: '6a1b3c4d-0000-4000-8000-000000000001' });

/** The data claim's mounts of a Job's container, as (subPath, path, read-only) rows; and that nothing mounts the whole claim. */
function claimMounts(job: V1Job): string[] {
  const c = job.spec?.template.spec?.containers[0];
  const mounts = (c?.volumeMounts ?? []).filter((m) => m.name === 'data');
  for (const m of mounts) assert.ok(m.subPath !== undefined && m.subPath !== '', `${m.mountPath} mounts the whole claim`);
  return mounts.map((m) => `${m.subPath} ${m.mountPath}${m.readOnly === true ? ' ro' : ''}`);
}

function env(container: { env?: { name: string; value?: string; valueFrom?: any }[] }, name: string): { value?: string; valueFrom?: any } | undefined {
  return container.env?.find((e) => e.name === name);
}

describe('settings and names', () => {
  test('TORPEDO_K8S_IMAGE is required; the rest have defaults that match deploy/', () => {
    assert.throws(() => kubeSettingsFromEnv({}), { code: 'TORPEDO_ERR_CONFIG', message: /TORPEDO_K8S_IMAGE/ });
    assert.throws(() => kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'x', TORPEDO_K8S_MASTER_PORT: 'seventy' }), { code: 'TORPEDO_ERR_CONFIG' });
    assert.throws(() => kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'x', TORPEDO_K8S_IMAGE_PULL_POLICY: 'Sometimes' }), { code: 'TORPEDO_ERR_CONFIG' });
    const s = kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'x' });
    assert.equal(s.dataClaim, 'torpedo-data');
    assert.equal(s.dataPath, '/data');
    assert.equal(s.masterServiceAccount, 'torpedo-master');
    assert.equal(s.workerServiceAccount, 'torpedo-worker');
    assert.equal(s.masterPort, 7070);
    assert.equal(s.namespace, undefined);
  });

  test('object names are DNS labels short enough for pod names; odd or long ids are hashed, not truncated into collisions', () => {
    const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    for (const id of [JOB_ID, 'job-lx2abc-1a2b3c', 'Job_With.Dots', `job-${'x'.repeat(80)}`, `job-${'x'.repeat(80)}-2`]) {
      const n = jobObjectNames(id);
      for (const name of [n.master, n.workers, n.secret]) {
        assert.match(name, dns, name);
        assert.ok(name.length <= 52, `${name} is ${name.length} long`);
      }
    }
    assert.equal(jobObjectNames(JOB_ID).master, `torpedo-${JOB_ID}-master`);
    assert.notEqual(jobObjectNames(`job-${'x'.repeat(80)}`).master, jobObjectNames(`job-${'x'.repeat(80)}-2`).master);
    assert.notEqual(jobObjectNames('Job-A').master, jobObjectNames('job-a').master);
    assert.throws(() => jobLabels('a job with spaces', 'master'), { code: 'TORPEDO_ERR_BAD_FLAG' });
    assert.equal(jobSelector(JOB_ID, 'worker'), `torpedo/job-id=${JOB_ID},app.kubernetes.io/component=worker`);
  });
});

describe('the per-job Secret', () => {
  test('validates; holds the token under `token`; owned by the master Job; immutable', () => {
    const secret = jobSecret({ namespace: NS, jobId: JOB_ID, token: 'tok', owner: OWNER });
    new Secret(secret as any).validate();
    assert.equal(secret.metadata?.name, jobObjectNames(JOB_ID).secret);
    assert.deepEqual(secret.stringData, { token: 'tok' });
    assert.equal(secret.immutable, true);
    assert.deepEqual(secret.metadata?.ownerReferences, [OWNER]);
    assert.equal(secret.metadata?.labels?.['torpedo/job-id'], JOB_ID);
  });
});

describe('the master Job', () => {
  const make = (s = settings) => masterJob({ settings: s, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json`, spec: spec() });
  const job = make();
  const pod = job.spec?.template.spec;
  const c = pod?.containers[0];

  test('validates against the batch/v1 schema', () => {
    new Job(job as any).validate();
  });

  test('Kubernetes replaces a dead master pod, but not one that exits 1 (job failed) or 2 (bad usage)', () => {
    assert.equal(pod?.restartPolicy, 'Never');
    assert.equal(job.spec?.backoffLimit, 6);
    const rules = job.spec?.podFailurePolicy?.rules ?? [];
    assert.deepEqual(rules[0], { action: 'FailJob', onExitCodes: { containerName: 'master', operator: 'In', values: [1, 2] } });
    assert.equal(rules[1]?.action, 'Ignore');
    assert.equal(job.spec?.ttlSecondsAfterFinished, 3600);
    assert.equal(job.spec?.completions, undefined);
    assert.equal(job.spec?.parallelism, undefined);
  });

  test('runs `torpedo master` on the job directory, listening on the pod IP it advertises, with a status file', () => {
    assert.equal(c?.command, undefined, "the image's ENTRYPOINT (tini) runs it");
    assert.deepEqual(c?.args, [
      'master',
      '--job',
      `/data/jobs/${JOB_ID}/output/_temporary`,
      '--listen',
      '0.0.0.0:$(TORPEDO_MASTER_PORT)',
      '--advertise',
      'http://$(TORPEDO_POD_IP):$(TORPEDO_MASTER_PORT)',
      '--launcher',
      'kubernetes',
      '--status-file',
      `/data/jobs/${JOB_ID}/master-status.json`,
    ]);
    assert.deepEqual(c?.ports, [{ name: 'tasks', containerPort: 7070, protocol: 'TCP' }]);
    assert.equal(env(c ?? {}, 'TORPEDO_MASTER_PORT')?.value, '7070');
  });

  test('gets the token from the Secret and its identity from the downward API; never a token in plain text', () => {
    assert.deepEqual(env(c ?? {}, 'TORPEDO_TOKEN')?.valueFrom, { secretKeyRef: { name: jobObjectNames(JOB_ID).secret, key: 'token' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_POD_IP')?.valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_POD_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_POD_UID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.uid' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_K8S_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(env(c ?? {}, 'TORPEDO_K8S_IMAGE')?.value, 'registry.example/torpedo:0.1.0');
    assert.equal(env(c ?? {}, 'TORPEDO_TOKEN')?.value, undefined, 'the token is never in the Job itself');
  });

  test('runs as the master service account (its token mounted: it calls the API), non-root, read-only root; passes restricted Pod Security', () => {
    assert.equal(pod?.serviceAccountName, 'torpedo-master');
    assert.equal(pod?.automountServiceAccountToken, true);
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.ok((pod?.securityContext?.runAsUser ?? 0) > 0);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(restrictedViolations(pod as never), []);
    assert.ok(c?.resources?.requests?.['cpu'] !== undefined && c.resources.limits?.['memory'] !== undefined);
    assert.equal(pod?.hostUsers, undefined, 'the master runs no user code: no user namespace asked for');
  });

  test("mounts only the job's directory (read-write) and its inputs (read-only) of the data claim, at the paths the manager has", () => {
    assert.deepEqual(pod?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'torpedo-data' });
    assert.deepEqual(claimMounts(job), [`jobs/${JOB_ID} /data/jobs/${JOB_ID}`, 'datasets/1/books /data/datasets/1/books ro']);
    assert.deepEqual(c?.volumeMounts?.find((m) => m.name === 'tmp'), { name: 'tmp', mountPath: '/tmp' });
  });

  test("refuses a job directory or status file it could not reach without more of the volume", () => {
    const base = { settings, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json` };
    assert.throws(() => masterJob({ ...base, statusFile: '/data/master-status.json', spec: spec() }), { code: 'TORPEDO_ERR_CONFIG', message: /status file/ });
    // An output directly under the volume's root would make the job's directory the whole claim.
    assert.throws(() => masterJob({ ...base, spec: spec({ output: '/data/output' }) }), { code: 'TORPEDO_ERR_CONFIG', message: /root of the data volume/ });
    assert.throws(() => masterJob({ ...base, spec: spec({ inputs: ['/elsewhere/books'] }) }), { code: 'TORPEDO_ERR_CONFIG', message: /input \/elsewhere\/books is not on the data volume/ });
  });

  test('carries the labels kubectl, Headlamp and the NetworkPolicies select on, on the Job and its pods', () => {
    for (const labels of [job.metadata?.labels, job.spec?.template.metadata?.labels]) {
      assert.deepEqual(labels, {
        'app.kubernetes.io/name': 'torpedo',
        'app.kubernetes.io/part-of': 'torpedo',
        'app.kubernetes.io/managed-by': 'torpedo',
        'app.kubernetes.io/component': 'master',
        'torpedo/job-id': JOB_ID,
      });
    }
  });
});

describe('the workers Job', () => {
  const make = (s: MasterSpec) => workersJob({ settings, namespace: NS, spec: s, masterUrl: 'http://10.1.2.3:7070', owner: OWNER });
  const job = make(spec());
  const pod = job.spec?.template.spec;
  const c = pod?.containers[0];

  test('validates against the batch/v1 schema, with and without streaming and limits', () => {
    new Job(job as any).validate();
    const streaming = { mapper: 'cat', reducer: 'wc -l', filesDir: '/data/x/files', confine: false, memoryLimitBytes: 0 };
    new Job(make(spec({ streaming, sandbox: false, workerMemoryBytes: 300 * MIB })) as any).validate();
  });

  test('W pods with no completion count, never restarted in place, replaced as they die, owned by the master Job', () => {
    assert.equal(job.spec?.parallelism, 4);
    assert.equal(job.spec?.completions, undefined);
    assert.equal(pod?.restartPolicy, 'Never');
    assert.ok((job.spec?.backoffLimit ?? 0) >= 100 * 4, `backoffLimit ${job.spec?.backoffLimit} lets the master, not the Job, decide`);
    assert.deepEqual(job.metadata?.ownerReferences, [OWNER]);
    assert.equal(job.spec?.ttlSecondsAfterFinished, 3600);
    assert.equal(job.metadata?.name, jobObjectNames(JOB_ID).workers);
    assert.equal(job.metadata?.labels?.['app.kubernetes.io/component'], 'worker');
    assert.equal(job.spec?.template.metadata?.labels?.['app.kubernetes.io/component'], 'worker');
  });

  test('runs `torpedo worker --master URL` (args of the image\'s ENTRYPOINT) with the token from the Secret and the pod name as its id', () => {
    assert.equal(c?.command, undefined);
    assert.deepEqual(c?.args, ['worker', '--master', 'http://10.1.2.3:7070']);
    assert.deepEqual(env(c ?? {}, 'TORPEDO_TOKEN')?.valueFrom, { secretKeyRef: { name: jobObjectNames(JOB_ID).secret, key: 'token' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_WORKER_ID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  });

  test('no API rights: the worker service account, and its token not mounted; non-root, no capabilities, read-only root, RuntimeDefault seccomp', () => {
    assert.equal(pod?.serviceAccountName, 'torpedo-worker');
    assert.equal(pod?.automountServiceAccountToken, false);
    assert.equal(pod?.enableServiceLinks, false);
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.deepEqual(pod?.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(restrictedViolations(pod as never), []);
  });

  test("mounts only its job's directory and inputs; an input inside another, or inside the job's directory, is not mounted twice", () => {
    assert.deepEqual(claimMounts(job), [`jobs/${JOB_ID} /data/jobs/${JOB_ID}`, 'datasets/1/books /data/datasets/1/books ro']);
    const nested = make(spec({ inputs: ['/data/datasets/1/books/part-2', '/data/datasets/1/books', `/data/jobs/${JOB_ID}/files/x`, '/data/datasets/1/maps'] }));
    assert.deepEqual(claimMounts(nested), [`jobs/${JOB_ID} /data/jobs/${JOB_ID}`, 'datasets/1/books /data/datasets/1/books ro', 'datasets/1/maps /data/datasets/1/maps ro']);
    new Job(nested as any).validate();
    assert.throws(() => jobMounts('/data', { output: '/data/in/out/output', inputs: ['/data/in'] }), { code: 'TORPEDO_ERR_CONFIG', message: /inside its input/ });
  });

  test('TORPEDO_K8S_HOST_USERS=false gives worker pods a user namespace of their own (hostUsers: false), and validates', () => {
    assert.equal(pod?.hostUsers, undefined, 'off by default');
    const userns = kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'x', TORPEDO_HOME: '/data', TORPEDO_K8S_HOST_USERS: 'false' });
    const w = workersJob({ settings: userns, namespace: NS, spec: spec(), masterUrl: 'http://10.1.2.3:7070', owner: OWNER });
    assert.equal(w.spec?.template.spec?.hostUsers, false);
    new Job(w as any).validate();
    assert.equal(make(spec()).spec?.template.spec?.hostUsers, undefined);
    assert.throws(() => kubeSettingsFromEnv({ TORPEDO_K8S_IMAGE: 'x', TORPEDO_K8S_HOST_USERS: 'no' }), { code: 'TORPEDO_ERR_CONFIG' });
  });

  test("user code is confined as local workers are (Node's permission model, through NODE_OPTIONS)", () => {
    const options = env(c ?? {}, 'NODE_OPTIONS')?.value ?? '';
    assert.match(options, /--experimental-permission/);
    assert.match(options, /--allow-fs-read=\/data\/datasets\/1\/books/);
    assert.match(options, new RegExp(`--allow-fs-write=/data/jobs/${JOB_ID}/output/_temporary`));
    // Attempts' logs, kept in the job's storage after the pods (and the commit) are gone.
    assert.match(options, new RegExp(`--allow-fs-write=/data/jobs/${JOB_ID}/output/_logs( |$)`));
    const open = make(spec({ sandbox: false }));
    assert.equal(env(open.spec?.template.spec?.containers[0] ?? {}, 'NODE_OPTIONS'), undefined);
    const limited = make(spec({ sandbox: false, workerMemoryBytes: 300 * MIB }));
    assert.match(env(limited.spec?.template.spec?.containers[0] ?? {}, 'NODE_OPTIONS')?.value ?? '', /--max-old-space-size=300/);
  });

  test("each worker's memory request and limit come from the job's buffer and heap settings", () => {
    const mem = (s: MasterSpec): string | undefined => make(s).spec?.template.spec?.containers[0]?.resources?.limits?.['memory'];
    assert.equal(mem(spec()), `${64 + 512 + 256}Mi`);
    assert.equal(mem(spec({ memoryBytes: 256 * MIB, workerMemoryBytes: 1024 * MIB })), `${256 + 1024 + 256}Mi`);
    assert.equal(workerMemoryBytes(spec({ memoryBytes: 256 * MIB, workerMemoryBytes: 1024 * MIB })), (256 + 1024 + 256) * MIB);
    const r = c?.resources;
    assert.equal(r?.requests?.['memory'], r?.limits?.['memory'], 'request = limit: a worker is not evicted for using what it was given');
    assert.equal(r?.requests?.['cpu'], '500m');
  });
});

describe("the workers' NetworkPolicy", () => {
  const policy = workersNetworkPolicy({ settings, namespace: NS, jobId: JOB_ID, owner: OWNER });

  test('validates; owned by the master Job; selects only this job\'s workers', () => {
    new NetworkPolicy(policy as any).validate();
    assert.equal(policy.metadata?.name, jobObjectNames(JOB_ID).network);
    assert.deepEqual(policy.metadata?.ownerReferences, [OWNER]);
    assert.deepEqual(policy.spec?.podSelector?.matchLabels, { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': 'worker', 'torpedo/job-id': JOB_ID });
  });

  test("no ingress; egress only to this job's master pod, on its task port: no DNS, no other master", () => {
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress', 'Egress']);
    assert.equal(policy.spec?.ingress, undefined);
    assert.deepEqual(policy.spec?.egress, [
      { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': 'master', 'torpedo/job-id': JOB_ID } } }], ports: [{ protocol: 'TCP', port: 7070 }] },
    ]);
  });
});

describe('the compile Job (a submission checked in a pod)', () => {
  const source = `/data/jobs/${JOB_ID}/job.ts`;
  const bundle = `/data/jobs/${JOB_ID}/bundle/job.mjs`;
  const plan = { jobId: JOB_ID, source, bundle, answer: `/data/jobs/${JOB_ID}/bundle/check.json`, typecheck: true, name: 'job.ts', relativeTo: `/data/jobs/${JOB_ID}`, timeoutMs: 60_000 };
  const job = codeCheckJob({ settings, namespace: NS, plan });
  const pod = job.spec?.template.spec as V1PodSpec;
  const c = pod.containers[0];

  test('validates against the batch/v1 schema; its NetworkPolicy allows nothing', () => {
    new Job(job as any).validate();
    const policy = compileNetworkPolicy({ namespace: NS, jobId: JOB_ID, owner: OWNER });
    new NetworkPolicy(policy as any).validate();
    assert.deepEqual(policy.spec, { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'torpedo', 'app.kubernetes.io/component': 'compile', 'torpedo/job-id': JOB_ID } }, policyTypes: ['Ingress', 'Egress'] });
    assert.equal(policy.metadata?.name, jobObjectNames(JOB_ID).compile);
  });

  test('runs `torpedo check-job` once (never retried) within a deadline made of the compile time limit', () => {
    assert.equal(c?.command, undefined);
    assert.deepEqual(c?.args, ['check-job', source, '--out', bundle, '--answer', plan.answer, '--name', 'job.ts', '--relative-to', `/data/jobs/${JOB_ID}`, '--timeout', '60000', '--typecheck']);
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(job.spec?.activeDeadlineSeconds, codeCheckDeadlineSeconds(60_000));
    assert.ok((job.spec?.activeDeadlineSeconds ?? 0) > 60 && (job.spec?.activeDeadlineSeconds ?? 0) < 120);
    assert.equal(job.metadata?.labels?.['app.kubernetes.io/component'], 'compile');
    const probeOnly = codeCheckJob({ settings, namespace: NS, plan: { ...plan, source: undefined, typecheck: false } as never });
    assert.deepEqual(probeOnly.spec?.template.spec?.containers[0]?.args?.slice(0, 3), ['check-job', '--out', bundle]);
    assert.deepEqual(claimMounts(probeOnly), [`jobs/${JOB_ID}/bundle /data/jobs/${JOB_ID}/bundle`]);
  });

  test('no API token, non-root, no capabilities, read-only root, CPU and memory limits; only the submission (read-only) and its bundle directory', () => {
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, 'torpedo-worker');
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(restrictedViolations(pod as never), []);
    assert.deepEqual(c?.resources, { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
    assert.deepEqual(claimMounts(job), [`jobs/${JOB_ID} /data/jobs/${JOB_ID} ro`, `jobs/${JOB_ID}/bundle /data/jobs/${JOB_ID}/bundle`]);
    assert.ok(pod.volumes?.find((v) => v.name === 'tmp')?.emptyDir?.sizeLimit !== undefined);
    assert.throws(() => codeCheckJob({ settings, namespace: NS, plan: { ...plan, source: '/data/job.ts' } }), { code: 'TORPEDO_ERR_CONFIG', message: /root of the data volume/ });
  });
});

describe('torpedo k8s render-job', () => {
  test('prints the Secret, the master Job and the workers Job of a prepared job as YAML (valid objects) or a JSON List; refuses without an image', async () => {
    const dir = tempDir('torpedo-render-');
    try {
      const input = join(dir, 'datasets', 'sample.txt');
      mkdirSync(dirname(input));
      copyFileSync(join(ROOT, 'examples', 'data', 'sample.txt'), input);
      const prepared = await runCli(['run', 'wordcount', '--input', input, '--output', join(dir, 'jobs', 'job-1', 'out'), '--workers', '5', '--prepare-only']);
      assert.equal(prepared.code, 0, prepared.stderr);
      const jobDir = prepared.stdout.trim();
      const env = { TORPEDO_K8S_IMAGE: 'registry.example/torpedo:0.1.0', TORPEDO_K8S_NAMESPACE: 'batch', TORPEDO_K8S_DATA_PATH: dir };
      const yaml = await runCli(['k8s', 'render-job', jobDir, '--job-id', 'job-1'], { env });
      assert.equal(yaml.code, 0, yaml.stderr);
      const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as any);
      assert.deepEqual(
        docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
        ['Secret batch/torpedo-job-1-token', 'Job batch/torpedo-job-1-master', 'NetworkPolicy batch/torpedo-job-1-network', 'Job batch/torpedo-job-1-workers'],
      );
      new Secret(docs[0]).validate();
      new Job(docs[1]).validate();
      new NetworkPolicy(docs[2]).validate();
      new Job(docs[3]).validate();
      assert.equal(docs[3].spec.parallelism, 5);
      assert.deepEqual(claimMounts(docs[3]), ['jobs/job-1 ' + join(dir, 'jobs', 'job-1'), `datasets/sample.txt ${input} ro`]);
      assert.ok(!yaml.stdout.includes('&a'), 'no YAML anchors: every object reads on its own');
      const json = await runCli(['k8s', 'render-job', join(jobDir, 'job.json'), '-o', 'json'], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.equal(JSON.parse(json.stdout).items.length, 4);
      const refused = await runCli(['k8s', 'render-job', jobDir], { env: { TORPEDO_K8S_IMAGE: '' } });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /TORPEDO_ERR_CONFIG.*TORPEDO_K8S_IMAGE/);
    } finally {
      removeDir(dir);
    }
  });
});

describe('per-job pod settings, within the operator bounds', () => {
  const OPERATOR = {
    TORPEDO_K8S_IMAGE: 'registry.example/torpedo:0.1.0',
    TORPEDO_HOME: '/data',
    TORPEDO_K8S_WORKER_MAX_CPU: '8',
    TORPEDO_K8S_WORKER_MAX_MEMORY: '32Gi',
    TORPEDO_K8S_NODE_SELECTOR: 'torpedo.example/pool=batch',
    TORPEDO_K8S_USER_NODE_SELECTOR_KEYS: 'disktype,gpu',
    TORPEDO_K8S_TOLERATIONS: '[{"key":"dedicated","operator":"Equal","value":"torpedo","effect":"NoSchedule"}]',
    TORPEDO_K8S_USER_TOLERATION_KEYS: 'spot',
    TORPEDO_K8S_PRIORITY_CLASS: 'torpedo-batch',
    TORPEDO_K8S_PRIORITY_CLASSES: 'torpedo-urgent',
    TORPEDO_K8S_IMAGE_PULL_SECRETS: 'registry-creds',
  };
  const bounded = kubeSettingsFromEnv(OPERATOR);
  const asked = {
    cpu: '2',
    memory: '6Gi',
    nodeSelector: { disktype: 'ssd' },
    tolerations: [{ key: 'spot', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
    priorityClassName: 'torpedo-urgent',
  };

  test('the operator defaults (nodeSelector, tolerations, PriorityClass, image pull Secrets) on every pod, master, workers and compile pods; schema-valid', () => {
    const master = masterJob({ settings: bounded, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json`, spec: spec() });
    const workers = workersJob({ settings: bounded, namespace: NS, spec: spec(), masterUrl: 'http://10.0.0.7:7070', owner: OWNER });
    const plan = { jobId: JOB_ID, source: `/data/jobs/${JOB_ID}/job.ts`, bundle: `/data/jobs/${JOB_ID}/bundle/job.mjs`, answer: `/data/jobs/${JOB_ID}/bundle/check.json`, typecheck: true, name: 'job.ts', relativeTo: `/data/jobs/${JOB_ID}`, timeoutMs: 60_000 };
    const check = codeCheckJob({ settings: bounded, namespace: NS, plan });
    for (const job of [master, workers, check]) {
      new Job(job as any).validate();
      const pod = job.spec?.template.spec as V1PodSpec;
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'registry-creds' }]);
      assert.deepEqual(pod.nodeSelector, { 'torpedo.example/pool': 'batch' });
      assert.deepEqual(pod.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'torpedo', effect: 'NoSchedule' }]);
      assert.equal(pod.priorityClassName, 'torpedo-batch');
      assert.deepEqual(restrictedViolations(pod as any), []);
    }
    assert.equal(workers.spec?.template.spec?.containers[0]?.resources?.requests?.['cpu'], '500m');
    // None of it when the operator sets none.
    const plain = workersJob({ settings, namespace: NS, spec: spec(), masterUrl: 'http://10.0.0.7:7070' }).spec?.template.spec as V1PodSpec;
    for (const field of ['imagePullSecrets', 'nodeSelector', 'tolerations', 'priorityClassName'] as const) assert.equal(plain[field], undefined, field);
  });

  test("a job's own choices within the bounds: worker cpu and memory, nodeSelector and tolerations added to the operator's, its PriorityClass on master and workers; schema-valid", () => {
    const s = spec({ pods: asked });
    const workers = workersJob({ settings: bounded, namespace: NS, spec: s, masterUrl: 'http://10.0.0.7:7070', owner: OWNER });
    const master = masterJob({ settings: bounded, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json`, spec: s });
    new Job(workers as any).validate();
    new Job(master as any).validate();
    const c = workers.spec?.template.spec?.containers[0];
    assert.deepEqual(c?.resources, { requests: { cpu: '2', memory: '6Gi' }, limits: { memory: '6Gi' } });
    for (const job of [master, workers]) {
      const pod = job.spec?.template.spec as V1PodSpec;
      assert.deepEqual(pod.nodeSelector, { 'torpedo.example/pool': 'batch', disktype: 'ssd' });
      assert.deepEqual(pod.tolerations, [
        { key: 'dedicated', operator: 'Equal', value: 'torpedo', effect: 'NoSchedule' },
        { key: 'spot', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      assert.equal(pod.priorityClassName, 'torpedo-urgent');
    }
    // The master's own resources are the operator's, whatever the job asks of its workers.
    assert.deepEqual(master.spec?.template.spec?.containers[0]?.resources?.requests, { cpu: '250m', memory: '512Mi' });
  });

  test('out of bounds is a TORPEDO_ERR_BAD_REQUEST that says what is allowed; a malformed request names the field; the operator settings are checked too', () => {
    const refused = (pods: unknown, message: RegExp): void => {
      assert.throws(() => resolveJobPods(bounded.pods, pods), { code: 'TORPEDO_ERR_BAD_REQUEST', message }, JSON.stringify(pods));
      // The master, given such a job.json, refuses to build its workers Job the same way.
      assert.throws(() => workersJob({ settings: bounded, namespace: NS, spec: spec({ pods: pods as MasterSpec['pods'] }), masterUrl: 'http://x' }), { code: 'TORPEDO_ERR_BAD_REQUEST' });
    };
    refused({ cpu: '9' }, /^pods: cpu 9 is out of bounds: this cluster allows more than 0 and at most 8 per worker$/);
    refused({ cpu: '0' }, /cpu 0 is out of bounds/);
    refused({ memory: '33Gi' }, /^pods: memory 33Gi is out of bounds: this cluster allows 64Mi to 32Gi per worker$/);
    refused({ nodeSelector: { zone: 'a' } }, /^pods: nodeSelector zone is not one users may set on this cluster \(allowed: only disktype, gpu\)$/);
    refused({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }, /^pods: a toleration of dedicated is not one users may have on this cluster \(allowed: only spot\)$/);
    refused({ priorityClassName: 'system-cluster-critical' }, /^pods: priorityClassName system-cluster-critical is not one users may pick on this cluster \(allowed: only torpedo-batch, torpedo-urgent\)$/);
    refused({ imagePullSecrets: [{ name: 'other-teams-creds' }] }, /^pods: at the top level: Unrecognized key: "imagePullSecrets"$/);
    refused({ cpu: 'lots' }, /^pods: at cpu: a Kubernetes quantity/);
    refused({ tolerations: [{ key: 'spot', operator: 'Exists', value: 'x' }] }, /operator Exists has no value/);
    // Without user keys in the policy, users may select on nothing.
    assert.throws(() => resolveJobPods(settings.pods, { nodeSelector: { disktype: 'ssd' } }), { message: /allowed: none/ });
    assert.equal(resolveJobPods(bounded.pods, { cpu: '8', memory: '32Gi' }).workerCpu, '8');
    assert.throws(() => kubeSettingsFromEnv({ ...OPERATOR, TORPEDO_K8S_WORKER_CPU: '16' }), { code: 'TORPEDO_ERR_CONFIG', message: /more than TORPEDO_K8S_WORKER_MAX_CPU/ });
    assert.throws(() => kubeSettingsFromEnv({ ...OPERATOR, TORPEDO_K8S_TOLERATIONS: '[{"operator":"Exists"}]' }), { code: 'TORPEDO_ERR_CONFIG', message: /TORPEDO_K8S_TOLERATIONS at 0.key/ });
    assert.throws(() => kubeSettingsFromEnv({ ...OPERATOR, TORPEDO_K8S_NODE_SELECTOR: 'pool' }), { code: 'TORPEDO_ERR_CONFIG' });
  });

  test('a master pod is given the operator settings, so that its workers Job is built within the same bounds', () => {
    const master = masterJob({ settings: bounded, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json`, spec: spec() });
    const vars = Object.fromEntries((master.spec?.template.spec?.containers[0]?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const again = kubeSettingsFromEnv({ ...vars, TORPEDO_K8S_IMAGE: OPERATOR.TORPEDO_K8S_IMAGE });
    assert.deepEqual(again.pods, bounded.pods);
    assert.equal(vars['TORPEDO_K8S_START_TIMEOUT'], '300');
  });

  test('torpedo k8s render-job shows the pod settings: job.json\'s, or those of its flags, refused out of bounds as at submit', async () => {
    const dir = tempDir('torpedo-render-pods-');
    try {
      const input = join(dir, 'datasets', 'sample.txt');
      mkdirSync(dirname(input));
      copyFileSync(join(ROOT, 'examples', 'data', 'sample.txt'), input);
      const prepared = await runCli(['run', 'wordcount', '--input', input, '--output', join(dir, 'jobs', 'job-1', 'out'), '--workers', '2', '--prepare-only']);
      assert.equal(prepared.code, 0, prepared.stderr);
      const jobDir = prepared.stdout.trim();
      const env = { ...OPERATOR, TORPEDO_K8S_NAMESPACE: 'batch', TORPEDO_K8S_DATA_PATH: dir, TORPEDO_HOME: '' };
      const flags = ['--pod-cpu', '1500m', '--pod-memory', '3Gi', '--node-selector', 'disktype=ssd', '--node-selector', 'gpu=none', '--toleration', 'spot:NoSchedule', '--priority-class', 'torpedo-urgent'];
      const r = await runCli(['k8s', 'render-job', jobDir, '--job-id', 'job-1', ...flags], { env });
      assert.equal(r.code, 0, r.stderr);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as any);
      for (const d of [docs[1], docs[3]]) new Job(d).validate();
      const workers = docs[3].spec.template.spec;
      assert.deepEqual(workers.containers[0].resources, { requests: { cpu: '1500m', memory: '3Gi' }, limits: { memory: '3Gi' } });
      assert.deepEqual(workers.nodeSelector, { 'torpedo.example/pool': 'batch', disktype: 'ssd', gpu: 'none' });
      assert.deepEqual(workers.tolerations, [
        { key: 'dedicated', operator: 'Equal', value: 'torpedo', effect: 'NoSchedule' },
        { key: 'spot', operator: 'Exists', effect: 'NoSchedule' },
      ]);
      assert.equal(workers.priorityClassName, 'torpedo-urgent');
      assert.deepEqual(workers.imagePullSecrets, [{ name: 'registry-creds' }]);
      assert.equal(docs[1].spec.template.spec.priorityClassName, 'torpedo-urgent');
      // job.json's own pod settings, without flags.
      const specFile = join(jobDir, 'job.json');
      const saved = JSON.parse(readFileSync(specFile, 'utf8'));
      writeFileSync(specFile, JSON.stringify({ ...saved, pods: { cpu: '3', tolerations: [{ key: 'spot', operator: 'Equal', value: 'yes' }] } }));
      const fromSpec = await runCli(['k8s', 'render-job', jobDir, '-o', 'json'], { env });
      assert.equal(fromSpec.code, 0, fromSpec.stderr);
      const w = JSON.parse(fromSpec.stdout).items[3].spec.template.spec;
      assert.equal(w.containers[0].resources.requests.cpu, '3');
      assert.deepEqual(w.tolerations.at(-1), { key: 'spot', operator: 'Equal', value: 'yes' });
      const out = await runCli(['k8s', 'render-job', jobDir, '--pod-cpu', '64'], { env });
      assert.equal(out.code, 2);
      assert.match(out.stderr, /TORPEDO_ERR_BAD_REQUEST: pods: cpu 64 is out of bounds: this cluster allows more than 0 and at most 8 per worker/);
    } finally {
      removeDir(dir);
    }
  });
});
