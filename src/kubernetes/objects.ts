import type { V1Container, V1EnvVar, V1Job, V1OwnerReference, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import { TorpedoError } from '../errors.ts';
import { sandboxArgs } from '../launcher/sandbox-args.ts';
import { layoutForOutput } from '../master/job-layout.ts';
import type { MasterSpec } from '../master/master-spec.ts';
import { settingsEnv, type KubeSettings } from './kube-settings.ts';
import { jobLabels, jobObjectMeta, jobObjectNames, TOKEN_KEY } from './names.ts';
import { DATA_VOLUME, isWithin, jobMounts, TMP_VOLUME, volumeMounts } from './pod-mounts.ts';
import { defaultPlacement, resolveJobPods, type PodPlacement } from './pod-policy.ts';

// Pure builders of the objects torpedo creates on a cluster. The manager makes a job's Secret,
// master Job and NetworkPolicy (network-policies.ts); the master makes the workers Job; the
// manager's compile pods are in code-check-job.ts. `torpedo k8s render-job` prints them for review.

/** Exit codes of `torpedo master` that end its Job: 1, the job failed; 2, bad usage. Others are retried. */
export const MASTER_FINAL_EXIT_CODES = [1, 2] as const;

const MIB = 2 ** 20;

/** The per-job Secret: the token masters and workers share. Owned by the master Job. */
export function jobSecret(o: { readonly namespace: string; readonly jobId: string; readonly token: string; readonly owner?: V1OwnerReference }): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: jobObjectMeta({ name: jobObjectNames(o.jobId).secret, namespace: o.namespace, jobId: o.jobId, component: 'master', owner: o.owner }),
    type: 'Opaque',
    immutable: true,
    stringData: { [TOKEN_KEY]: o.token },
  };
}

/**
 * The master Job: one pod running `torpedo master` on the prepared job directory. Kubernetes
 * replaces a master pod that dies (killed, evicted, out of memory) up to `masterRestarts` times,
 * and the new master resumes from the committed tasks; a master that exits 1 (the job failed) or
 * 2 (bad usage) ends the Job at once (podFailurePolicy), since running it again cannot help.
 */
export function masterJob(o: {
  readonly settings: KubeSettings;
  readonly namespace: string;
  readonly jobId: string;
  /** The job directory (OUTPUT/_temporary) on the data volume, holding job.json and job.mjs. */
  readonly jobDir: string;
  /** Where the master writes its status (outside the job directory, which the commit removes). */
  readonly statusFile: string;
  /** The job's inputs and output, from its job.json: what its pods mount (pod-mounts.ts). */
  readonly spec: Pick<MasterSpec, 'inputs' | 'output' | 'pods'>;
}): V1Job {
  const s = o.settings;
  const names = jobObjectNames(o.jobId);
  const mounts = jobMounts(s.dataPath, o.spec);
  const own = mounts[0]?.path ?? '';
  for (const [what, path] of [
    ['the job directory', o.jobDir],
    ['the status file', o.statusFile],
  ] as const) {
    if (!isWithin(path, own)) throw new TorpedoError('TORPEDO_ERR_CONFIG', `${what} ${path} is outside the job's own directory ${own}, the only one its master may write`);
  }
  const labels = jobLabels(o.jobId, 'master');
  // The master runs where its workers do: their nodeSelector, tolerations and PriorityClass.
  const placement = resolveJobPods(s.pods, o.spec.pods);
  const container: V1Container = {
    name: 'master',
    image: s.image,
    ...(s.imagePullPolicy !== undefined ? { imagePullPolicy: s.imagePullPolicy } : {}),
    // `args`, not `command`: the image's ENTRYPOINT (tini, then torpedo) stays PID 1, so that the
    // kubelet's SIGTERM stops the master (node as PID 1 ignored it until the SIGKILL). $(VAR) is
    // expanded by the kubelet from the container's environment.
    args: [
      'master',
      '--job',
      o.jobDir,
      '--listen',
      '0.0.0.0:$(TORPEDO_MASTER_PORT)',
      '--advertise',
      'http://$(TORPEDO_POD_IP):$(TORPEDO_MASTER_PORT)',
      '--launcher',
      'kubernetes',
      '--status-file',
      o.statusFile,
    ],
    ports: [{ name: 'tasks', containerPort: s.masterPort, protocol: 'TCP' }],
    env: [
      secretEnv('TORPEDO_TOKEN', names.secret),
      fieldEnv('TORPEDO_POD_IP', 'status.podIP'),
      fieldEnv('TORPEDO_POD_NAME', 'metadata.name'),
      fieldEnv('TORPEDO_POD_UID', 'metadata.uid'),
      fieldEnv('TORPEDO_K8S_NAMESPACE', 'metadata.namespace'),
      // Its own variable so that a test double of the cluster, where all pods share one network
      // namespace, can give each master its own port (see test/support/fake-kube-api.ts).
      { name: 'TORPEDO_MASTER_PORT', value: String(s.masterPort) },
      ...settingsEnv(s),
    ],
    resources: { requests: { cpu: s.masterCpu, memory: s.masterMemory }, limits: { memory: s.masterMemory } },
    securityContext: containerSecurity(),
    volumeMounts: volumeMounts(mounts),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: names.master, namespace: o.namespace, labels, annotations: { 'torpedo/job-dir': o.jobDir, 'torpedo/status-file': o.statusFile } },
    spec: {
      backoffLimit: s.masterRestarts,
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: 'master', operator: 'In', values: [...MASTER_FINAL_EXIT_CODES] } },
          // A node drained or a pod preempted is not the master's fault.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: podSpec(s, {
          // podFailurePolicy needs Never: a new pod (new IP) replaces a failed master.
          restartPolicy: 'Never',
          // The master calls the API (its workers Job, their pods); it runs no user code: it never
          // loads the job's module, and prepareJob ran in the manager before.
          serviceAccountName: s.masterServiceAccount,
          automountServiceAccountToken: true,
          containers: [container],
        }, { placement }),
      },
    },
  };
}

/**
 * The workers Job the master creates: `parallelism = W` pods of `torpedo worker`, no completion
 * count (the first worker to exit 0 — told by the master that the job is over — marks it done),
 * replaced when they fail. The master, not this backoffLimit, decides when deaths are too many;
 * the limit only stops a runaway. Owned by the master Job, so it goes when the master Job goes.
 */
export function workersJob(o: {
  readonly settings: KubeSettings;
  readonly namespace: string;
  readonly spec: MasterSpec;
  readonly masterUrl: string;
  readonly owner?: V1OwnerReference;
}): V1Job {
  const s = o.settings;
  const spec = o.spec;
  const names = jobObjectNames(spec.jobId);
  const labels = jobLabels(spec.jobId, 'worker');
  const pods = resolveJobPods(s.pods, spec.pods);
  const memory = pods.workerMemory ?? `${Math.ceil(workerMemoryBytes(spec) / MIB)}Mi`;
  const nodeOptions = workerNodeOptions(spec);
  const env: V1EnvVar[] = [
    secretEnv('TORPEDO_TOKEN', names.secret),
    fieldEnv('TORPEDO_WORKER_ID', 'metadata.name'),
    ...(nodeOptions !== '' ? [{ name: 'NODE_OPTIONS', value: nodeOptions }] : []),
  ];
  const tasks = spec.splits.length + spec.reducers + (spec.hasSetup ? 1 : 0);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: jobObjectMeta({ name: names.workers, namespace: o.namespace, jobId: spec.jobId, component: 'worker', owner: o.owner }),
    spec: {
      parallelism: spec.workers,
      // Matches the master's own hard cap on worker deaths (src/master/master.ts).
      backoffLimit: Math.min(2 ** 31 - 1, 103 * spec.workers + tasks),
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: podSpec(s, {
          restartPolicy: 'Never',
          serviceAccountName: s.workerServiceAccount,
          automountServiceAccountToken: false,
          ...userCodePod(s),
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'worker',
              image: s.image,
              ...(s.imagePullPolicy !== undefined ? { imagePullPolicy: s.imagePullPolicy } : {}),
              // `args` after the image's ENTRYPOINT (tini -- node /app/bin/torpedo), not a `command`:
              // tini as PID 1 passes on the kubelet's SIGTERM, and Node's permission model (the
              // sandbox flags in NODE_OPTIONS) sees the main script by its real path, in torpedo's
              // directory (the `torpedo` link on PATH was refused: ERR_ACCESS_DENIED).
              args: ['worker', '--master', o.masterUrl],
              env,
              resources: { requests: { cpu: pods.workerCpu, memory }, limits: { memory } },
              securityContext: containerSecurity(),
              volumeMounts: volumeMounts(jobMounts(s.dataPath, spec)),
            },
          ],
        }, { placement: pods }),
      },
    },
  };
}

/**
 * A worker pod's memory request and limit: the map output buffer (`memoryBytes`, typed arrays
 * outside the JavaScript heap), the heap (`workerMemoryBytes`, or 512 MiB when Node picks it), a
 * streaming command's own limit, and 256 MiB for Node itself and file buffers.
 */
export function workerMemoryBytes(spec: MasterSpec): number {
  const heap = spec.workerMemoryBytes > 0 ? spec.workerMemoryBytes : 512 * MIB;
  const command = spec.streaming !== undefined ? (spec.streaming.memoryLimitBytes > 0 ? spec.streaming.memoryLimitBytes : 512 * MIB) : 0;
  return spec.memoryBytes + heap + command + 256 * MIB;
}

/**
 * Node flags for workers, as NODE_OPTIONS (the container's command stays `torpedo worker`): the
 * same permission-model sandbox and heap limit local workers get. The paths of torpedo's own files
 * are those of the process that builds the object — in a master pod, the image's.
 */
export function workerNodeOptions(spec: MasterSpec): string {
  const layout = layoutForOutput(spec.output);
  const flags = [
    ...(spec.sandbox ? sandboxArgs({ inputs: spec.inputs, output: spec.output, workDir: layout.workDir, streaming: spec.streaming !== undefined }) : []),
    ...(spec.workerMemoryBytes > 0 ? [`--max-old-space-size=${Math.max(16, Math.floor(spec.workerMemoryBytes / MIB))}`] : []),
  ];
  if (flags.length > 0) flags.push('--enable-source-maps');
  // NODE_OPTIONS splits on spaces; a quoted flag may hold them.
  return flags.map((f) => (/[\s"\\]/.test(f) ? JSON.stringify(f) : f)).join(' ');
}

/** The owner reference that makes an object go when `owner` (a Job or a Pod) is deleted. */
export function ownerReference(owner: { readonly apiVersion: string; readonly kind: string; readonly name: string; readonly uid: string }): V1OwnerReference {
  // No blockOwnerDeletion: setting it needs update rights on the owner's finalizers.
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid };
}

/**
 * A pod spec as every torpedo pod has it: non-root (the settings' uid and gid), the runtime's
 * seccomp profile, no service links, and two volumes — the data claim, of which containers mount
 * only their job's directories (pod-mounts.ts), and an emptyDir for /tmp (`tmpSizeLimit`). Where
 * it runs: the job's `placement` (nodeSelector, tolerations, PriorityClass), else the operator's;
 * the operator's image pull Secrets, if any.
 */
export function podSpec(
  s: KubeSettings,
  spec: Pick<V1PodSpec, 'restartPolicy' | 'serviceAccountName' | 'automountServiceAccountToken' | 'containers' | 'terminationGracePeriodSeconds' | 'hostUsers' | 'activeDeadlineSeconds'>,
  o: { readonly tmpSizeLimit?: string; readonly placement?: PodPlacement } = {},
): V1PodSpec {
  const placement = o.placement ?? defaultPlacement(s.pods);
  return {
    ...spec,
    ...(Object.keys(placement.nodeSelector).length > 0 ? { nodeSelector: { ...placement.nodeSelector } } : {}),
    ...(placement.tolerations.length > 0 ? { tolerations: placement.tolerations.map((t) => ({ ...t })) } : {}),
    ...(placement.priorityClassName !== undefined ? { priorityClassName: placement.priorityClassName } : {}),
    ...(s.pods.imagePullSecrets.length > 0 ? { imagePullSecrets: s.pods.imagePullSecrets.map((name) => ({ name })) } : {}),
    // Hundreds of service variables in every pod help no one.
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: s.runAsUser,
      runAsGroup: s.runAsGroup,
      fsGroup: s.runAsGroup,
      // Chown a (large) data volume only if its root is not the group's already.
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumes: [
      { name: DATA_VOLUME, persistentVolumeClaim: { claimName: s.dataClaim } },
      // The root filesystem is read-only; streaming commands run in directories under /tmp.
      { name: TMP_VOLUME, emptyDir: o.tmpSizeLimit !== undefined ? { sizeLimit: o.tmpSizeLimit } : {} },
    ],
  };
}

/** What a pod that runs user code adds: a user namespace of its own, when the settings opt in. */
export function userCodePod(s: KubeSettings): Pick<V1PodSpec, 'hostUsers'> {
  return s.hostUsers ? {} : { hostUsers: false };
}

/** No privilege escalation, no capabilities, a read-only root filesystem: every torpedo container. */
export function containerSecurity(): V1Container['securityContext'] {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
}

function secretEnv(name: string, secret: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key: TOKEN_KEY } } };
}

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}
