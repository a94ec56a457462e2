// The Launcher conformance suite (test/support/launcher-conformance.ts) against every launcher:
// local worker processes (confined by bubblewrap where it works, and without the sandbox),
// workers started by someone else (ExternalLauncher, with `torpedo worker --master URL` started
// here as that someone would), and a workers Job on the fake Kubernetes API server, whose pods run
// as local processes. Real workers, real wiring (`localLauncher` is what `torpedo run` uses); only
// loopback networking.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before } from 'node:test';
import { ensureBundle } from '../src/job/probe-job.ts';
import { localLauncher } from '../src/job/run-local-job.ts';
import { kubeCall, kubeClients } from '../src/kubernetes/kube-client.ts';
import { kubeSettingsFromEnv } from '../src/kubernetes/kube-settings.ts';
import { KubernetesLauncher } from '../src/kubernetes/kubernetes-launcher.ts';
import { jobSecret } from '../src/kubernetes/objects.ts';
import { ExternalLauncher } from '../src/launcher/external-launcher.ts';
import { layoutForOutput } from '../src/master/job-layout.ts';
import { MasterSpecSchema, type MasterSpec } from '../src/master/master-spec.ts';
import { resolveSettings } from '../src/protocol/job-settings.ts';
import { sandboxSupport } from '../src/sandbox/index.ts';
import { BIN, removeDir, ROOT, tempDir } from './helpers.ts';
import { FakeKubeApi, rbacFromManifests, torpedoMountPolicy } from './support/fake-kube-api.ts';
import { describeLauncherConformance, W, type HarnessContext, type LauncherHarness } from './support/launcher-conformance.ts';

// Confined workers cannot build bin/torpedo's bundle themselves (the master builds it first, too).
before(() => ensureBundle());

/** A job with no work: what the launchers read of a spec (ids, limits, the sandbox, mounts). */
function conformanceSpec(o: { jobId: string; input: string; output: string; sandbox: boolean }): MasterSpec {
  return MasterSpecSchema.parse({ jobId: o.jobId, job: 'conformance', jobName: 'conformance', inputs: [o.input], output: o.output, splits: [], hasSetup: false, sandbox: o.sandbox, ...resolveSettings({ workers: W }) });
}

function jobId(): string {
  return `job-conformance-${randomBytes(4).toString('hex')}`;
}

// ── LocalLauncher ────────────────────────────────────────────────────────────────────────────────

async function localHarness(sandbox: boolean): Promise<LauncherHarness> {
  await ensureBundle();
  const dir = tempDir('torpedo-conformance-local-');
  const input = join(dir, 'input.txt');
  writeFileSync(input, 'a\n', { mode: 0o644 });
  const output = join(dir, 'output');
  const layout = layoutForOutput(output);
  for (const d of [layout.workDir, layout.attempts, layout.map, layout.reduce, layout.logs]) mkdirSync(d, { recursive: true });
  writeFileSync(layout.bundle, 'export default { map() {}, reduce() {} };\n');
  const launcher = localLauncher(conformanceSpec({ jobId: jobId(), input, output, sandbox }), layout);
  return {
    launcher,
    logs: () => readdirSync(layout.logs).map((f) => `--- ${f}\n${readFileSync(join(layout.logs, f), 'utf8')}`).join('\n'),
    close: async () => removeDir(dir),
  };
}

const bubblewrap = sandboxSupport();

describeLauncherConformance('LocalLauncher, confined by bubblewrap', () => localHarness(true), {
  ...(bubblewrap.level === 'none' ? { skip: `no bubblewrap here: ${bubblewrap.reason}` } : {}),
});

describeLauncherConformance('LocalLauncher, without the sandbox', () => localHarness(false));

// ── ExternalLauncher ─────────────────────────────────────────────────────────────────────────────

/** The other party: starts `torpedo worker --master URL` with the token in its environment, as its message says. */
async function externalHarness(): Promise<LauncherHarness> {
  await ensureBundle(); // or three workers would build it at once
  const lines: string[] = [];
  const children: ChildProcess[] = [];
  const launcher = new ExternalLauncher({ log: (line) => lines.push(line), tokenHint: "TORPEDO_TOKEN from the job's secret" });
  return {
    launcher,
    startExternalWorkers: (workers, masterUrl, token) => {
      for (let i = 0; i < workers; i++) {
        const child = spawn(process.execPath, [BIN, 'worker', '--master', masterUrl], { cwd: ROOT, env: { ...process.env, TORPEDO_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr?.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
        children.push(child);
      }
    },
    logs: () => lines.join('\n'),
    close: async () => {
      const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(running.map((c) => new Promise((resolve) => c.once('close', resolve).kill('SIGKILL'))));
    },
  };
}

/** What external-launcher.ts says it leaves to whoever started the workers. */
const CANNOT_SEE_DEATHS = 'ExternalLauncher cannot see its workers die (external-launcher.ts): their attempts come back to the master when their leases expire';

describeLauncherConformance('ExternalLauncher, workers started by hand', externalHarness, {
  exempt: {
    'reports-deaths': CANNOT_SEE_DEATHS,
    'reports-exits': CANNOT_SEE_DEATHS,
    'reports-failures': CANNOT_SEE_DEATHS,
    'stops-one': 'a worker the master gives up on is told to stop through the protocol, not killed (external-launcher.ts)',
    'keeps-pool': 'with a pool launcher something else keeps the number of workers up (launcher.ts): here, whoever started them',
    'kills-at-stop': 'nothing to kill: each worker leaves when its next request is answered `exit` (external-launcher.ts)',
  },
});

// ── KubernetesLauncher ───────────────────────────────────────────────────────────────────────────

const NS = 'torpedo';
const MANAGER = `system:serviceaccount:${NS}:torpedo-manager`;
const MASTER = `system:serviceaccount:${NS}:torpedo-master`;
/** What deploy/ grants: the fake refuses any other call with 403. */
const RBAC = rbacFromManifests(
  ['manager-rbac.yaml', 'master-rbac.yaml', 'worker-service-account.yaml'].map((f) => readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', f), 'utf8')),
  NS,
);

/** A master outside a pod (no TORPEDO_POD_NAME), with the job's Secret made as the manager makes it. */
async function kubernetesHarness({ token }: HarnessContext): Promise<LauncherHarness> {
  await ensureBundle(); // the fake's pods run this checkout as their image, read-only
  const dir = tempDir('torpedo-conformance-k8s-');
  const data = join(dir, 'data');
  const id = jobId();
  mkdirSync(join(data, 'datasets', '1'), { recursive: true });
  mkdirSync(join(data, 'jobs', id), { recursive: true });
  const input = join(data, 'datasets', '1', 'input.txt');
  writeFileSync(input, 'a\n');
  const fake = await FakeKubeApi.start({ claims: { 'torpedo-data': data }, rbac: RBAC, mountPolicy: torpedoMountPolicy, podSecurity: 'restricted' });
  const env = { TORPEDO_K8S_IMAGE: 'torpedo:test', TORPEDO_K8S_DATA_PATH: data, TORPEDO_K8S_NAMESPACE: NS };
  const manager = kubeClients(kubeSettingsFromEnv({ ...env, KUBECONFIG: fake.kubeconfig(MANAGER, NS) }));
  await kubeCall('create Secret', () => manager.core.createNamespacedSecret({ namespace: NS, body: jobSecret({ namespace: NS, jobId: id, token }) }));
  const settings = kubeSettingsFromEnv({ ...env, KUBECONFIG: fake.kubeconfig(MASTER, NS) });
  const lines: string[] = [];
  const launcher = new KubernetesLauncher({
    spec: conformanceSpec({ jobId: id, input, output: join(data, 'jobs', id, 'output'), sandbox: true }),
    settings,
    clients: kubeClients(settings),
    env: { TORPEDO_TOKEN: token },
    log: (line) => lines.push(line),
  });
  const mine = fake.list.bind(fake);
  return {
    launcher,
    leftovers: () =>
      [...mine('jobs', NS), ...mine('pods', NS)]
        .filter((o) => o.metadata.labels?.['torpedo/job-id'] === id && o.metadata.labels?.['app.kubernetes.io/component'] === 'worker')
        .map((o) => `${o.kind} ${o.metadata.name}${o.status?.phase !== undefined ? ` (${o.status.phase})` : ''}`),
    logs: () => [...lines, ...mine('pods', NS).map((p) => `--- pod ${p.metadata.name} (${p.status?.phase})\n${fake.log(NS, p.metadata.name)}`)].join('\n'),
    close: async () => {
      await fake.close();
      removeDir(dir);
    },
  };
}

describeLauncherConformance('KubernetesLauncher, on the fake API server', kubernetesHarness);
