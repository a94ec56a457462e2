// The objects the Kubernetes launcher creates, validated against the official API schemas
// (kubernetes-models), plus checks of what matters: restarts, ownership, secrets, non-root, RWX
// data volume, resources from the job's settings, labels.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { kubeSettingsFromEnv } from '../src/kubernetes/kube-settings.ts';
import { jobLabels, jobObjectNames, jobSelector } from '../src/kubernetes/names.ts';
import { jobSecret, masterJob, ownerReference, workerMemoryBytes, workersJob } from '../src/kubernetes/objects.ts';
import type { MasterSpec } from '../src/master/master-spec.ts';
import { removeDir, ROOT, runCli, tempDir } from './helpers.ts';

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
    maxAttempts: 3,
    skipBadRecords: false,
    backupTasks: true,
    heartbeatMs: 1000,
    leaseTimeoutMs: 30_000,
    taskTimeoutMs: 0,
    sandbox: true,
    workerMemoryBytes: 0,
    ...over,
  };
}

const OWNER = ownerReference({ apiVersion: 'batch/v1', kind: 'Job', name: jobObjectNames(JOB_ID).master, uid: '6a1b3c4d-0000-4000-8000-000000000001' });

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
  const job = masterJob({ settings, namespace: NS, jobId: JOB_ID, jobDir: `/data/jobs/${JOB_ID}/output/_temporary`, statusFile: `/data/jobs/${JOB_ID}/master-status.json` });
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
    assert.deepEqual(c?.command, [
      'torpedo',
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

  test('runs as the master service account, non-root, read-only root, the data claim at the data path', () => {
    assert.equal(pod?.serviceAccountName, 'torpedo-master');
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.ok((pod?.securityContext?.runAsUser ?? 0) > 0);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c?.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(pod?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'torpedo-data' });
    assert.deepEqual(c?.volumeMounts?.find((m) => m.name === 'data')?.mountPath, '/data');
    assert.ok(c?.resources?.requests?.['cpu'] !== undefined && c.resources.limits?.['memory'] !== undefined);
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

  test('runs `torpedo worker --master URL` with the token from the Secret and the pod name as its id', () => {
    assert.deepEqual(c?.command, ['torpedo', 'worker', '--master', 'http://10.1.2.3:7070']);
    assert.deepEqual(env(c ?? {}, 'TORPEDO_TOKEN')?.valueFrom, { secretKeyRef: { name: jobObjectNames(JOB_ID).secret, key: 'token' } });
    assert.deepEqual(env(c ?? {}, 'TORPEDO_WORKER_ID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
  });

  test('no API rights: the worker service account, and its token not mounted', () => {
    assert.equal(pod?.serviceAccountName, 'torpedo-worker');
    assert.equal(pod?.automountServiceAccountToken, false);
    assert.equal(pod?.enableServiceLinks, false);
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(c?.securityContext?.allowPrivilegeEscalation, false);
  });

  test("user code is confined as local workers are (Node's permission model, through NODE_OPTIONS)", () => {
    const options = env(c ?? {}, 'NODE_OPTIONS')?.value ?? '';
    assert.match(options, /--experimental-permission/);
    assert.match(options, /--allow-fs-read=\/data\/datasets\/1\/books/);
    assert.match(options, new RegExp(`--allow-fs-write=/data/jobs/${JOB_ID}/output/_temporary`));
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

describe('torpedo k8s render-job', () => {
  test('prints the Secret, the master Job and the workers Job of a prepared job as YAML (valid objects) or a JSON List; refuses without an image', async () => {
    const dir = tempDir('torpedo-render-');
    try {
      const prepared = await runCli(['run', 'wordcount', '--input', join(ROOT, 'examples', 'data', 'sample.txt'), '--output', join(dir, 'out'), '--workers', '5', '--prepare-only']);
      assert.equal(prepared.code, 0, prepared.stderr);
      const jobDir = prepared.stdout.trim();
      const env = { TORPEDO_K8S_IMAGE: 'registry.example/torpedo:0.1.0', TORPEDO_K8S_NAMESPACE: 'batch', TORPEDO_K8S_DATA_PATH: dir };
      const yaml = await runCli(['k8s', 'render-job', jobDir, '--job-id', 'job-1'], { env });
      assert.equal(yaml.code, 0, yaml.stderr);
      const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as any);
      assert.deepEqual(
        docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
        ['Secret batch/torpedo-job-1-token', 'Job batch/torpedo-job-1-master', 'Job batch/torpedo-job-1-workers'],
      );
      new Secret(docs[0]).validate();
      new Job(docs[1]).validate();
      new Job(docs[2]).validate();
      assert.equal(docs[2].spec.parallelism, 5);
      assert.ok(!yaml.stdout.includes('&a'), 'no YAML anchors: every object reads on its own');
      const json = await runCli(['k8s', 'render-job', join(jobDir, 'job.json'), '-o', 'json'], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.equal(JSON.parse(json.stdout).items.length, 3);
      const refused = await runCli(['k8s', 'render-job', jobDir], { env: { TORPEDO_K8S_IMAGE: '' } });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /TORPEDO_ERR_CONFIG.*TORPEDO_K8S_IMAGE/);
    } finally {
      removeDir(dir);
    }
  });
});
