import { TorpedoError } from '../errors.ts';
import { podPolicyEnv, podPolicyFromEnv, type PodPolicy } from './pod-policy.ts';

/**
 * Where and how torpedo creates its Kubernetes objects. Read from `TORPEDO_K8S_*` variables by the
 * manager (which creates master Jobs) and by each master (which creates its workers Job); the
 * master Job hands the manager's settings on to its pod as the same variables (`settingsEnv`),
 * except KUBECONFIG (a master pod reaches the API with its own service account) and the master
 * port (the master Job's own TORPEDO_MASTER_PORT).
 */
export interface KubeSettings {
  /** KUBECONFIG: how to reach the API server; unset: ~/.kube/config, else the pod's service account. */
  readonly kubeconfig: string | undefined;
  /** TORPEDO_K8S_NAMESPACE; default: the kubeconfig's or service account's namespace, else `default`. */
  readonly namespace: string | undefined;
  /** TORPEDO_K8S_IMAGE: the torpedo image; masters and workers run `torpedo …` in it. Required. */
  readonly image: string;
  /** TORPEDO_K8S_IMAGE_PULL_POLICY; default: Kubernetes' own (IfNotPresent, Always for `:latest`). */
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  /** TORPEDO_K8S_DATA_CLAIM: the ReadWriteMany PVC holding datasets and jobs (default `torpedo-data`). */
  readonly dataClaim: string;
  /**
   * TORPEDO_K8S_DATA_PATH, else TORPEDO_HOME, else `/data`: where the claim is mounted in every
   * pod. Job directories are absolute paths under it, the same in the manager, masters and workers.
   */
  readonly dataPath: string;
  /** TORPEDO_K8S_MASTER_SERVICE_ACCOUNT (default `torpedo-master`): may manage the job's workers. */
  readonly masterServiceAccount: string;
  /** TORPEDO_K8S_WORKER_SERVICE_ACCOUNT (default `torpedo-worker`): no rights; its token is not mounted. */
  readonly workerServiceAccount: string;
  /** TORPEDO_K8S_MASTER_PORT (default 7070): the port masters listen on for their workers. */
  readonly masterPort: number;
  /** TORPEDO_K8S_MASTER_CPU / _MEMORY: the master container's request (and memory limit). */
  readonly masterCpu: string;
  readonly masterMemory: string;
  /**
   * The pods of jobs: each worker's CPU (TORPEDO_K8S_WORKER_CPU; a worker runs one task at a
   * time), nodeSelector, tolerations, PriorityClass and image pull Secrets, and the bounds within
   * which a job's owner may choose its own (pod-policy.ts).
   */
  readonly pods: PodPolicy;
  /** TORPEDO_K8S_MASTER_RESTARTS (default 6): the master Job's backoffLimit. */
  readonly masterRestarts: number;
  /** TORPEDO_K8S_TTL_SECONDS (default 3600): finished Jobs (and what they own) are deleted after this. */
  readonly ttlSecondsAfterFinished: number;
  /**
   * TORPEDO_K8S_START_TIMEOUT (seconds, default 300): a master pod still unable to start after this
   * long (image pull errors, a missing Secret, unschedulable) fails its job; so does a workers Job
   * none of whose pods started in this long (TORPEDO_ERR_PODS_NOT_STARTED), while one with some
   * started goes on with those (kubernetes-launcher.ts).
   */
  readonly startTimeoutSeconds: number;
  /** TORPEDO_K8S_RUN_AS_USER / _GROUP (default 10001, the image's user, deploy/Dockerfile): the non-root uid and gid of every container. */
  readonly runAsUser: number;
  readonly runAsGroup: number;
  /**
   * TORPEDO_K8S_HOST_USERS (default true): `false` gives each pod that runs user code (workers,
   * compile pods) a user namespace of its own (`hostUsers: false`): root inside it, were it ever
   * gained, is nobody on the node. Opt-in: it needs Kubernetes 1.30+ with the feature on, and a
   * data volume whose filesystem supports idmapped mounts (NFS does not).
   */
  readonly hostUsers: boolean;
  /**
   * TORPEDO_K8S_COMPILE_CPU / _MEMORY (default `1`, `2Gi`): request and limit of each compile pod,
   * which bundles, type-checks and loads a submission (tsc's heap is 1 GiB). Its time limit is
   * the manager's TORPEDO_COMPILE_TIMEOUT_SECONDS.
   */
  readonly compileCpu: string;
  readonly compileMemory: string;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

/** Reads the settings; a missing image or a malformed number is a TORPEDO_ERR_CONFIG. */
export function kubeSettingsFromEnv(env: NodeJS.ProcessEnv): KubeSettings {
  const image = env['TORPEDO_K8S_IMAGE'];
  if (image === undefined || image === '') {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', 'the kubernetes launcher needs TORPEDO_K8S_IMAGE: the torpedo image masters and workers run (e.g. registry.example/torpedo:0.1.0)');
  }
  const pull = env['TORPEDO_K8S_IMAGE_PULL_POLICY'] || undefined;
  if (pull !== undefined && !(PULL_POLICIES as readonly string[]).includes(pull)) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_K8S_IMAGE_PULL_POLICY must be one of ${PULL_POLICIES.join(', ')}, not ${JSON.stringify(pull)}`);
  }
  const dataPath = env['TORPEDO_K8S_DATA_PATH'] || env['TORPEDO_HOME'] || '/data';
  if (!dataPath.startsWith('/')) throw new TorpedoError('TORPEDO_ERR_CONFIG', `the data path must be absolute (it is a mount path in pods), not ${JSON.stringify(dataPath)}`);
  return {
    kubeconfig: env['KUBECONFIG'] || undefined,
    namespace: env['TORPEDO_K8S_NAMESPACE'] || undefined,
    image,
    imagePullPolicy: pull as KubeSettings['imagePullPolicy'],
    dataClaim: env['TORPEDO_K8S_DATA_CLAIM'] || 'torpedo-data',
    dataPath,
    masterServiceAccount: env['TORPEDO_K8S_MASTER_SERVICE_ACCOUNT'] || 'torpedo-master',
    workerServiceAccount: env['TORPEDO_K8S_WORKER_SERVICE_ACCOUNT'] || 'torpedo-worker',
    masterPort: integer(env, 'TORPEDO_K8S_MASTER_PORT', 7070, 1, 65535),
    masterCpu: env['TORPEDO_K8S_MASTER_CPU'] || '250m',
    masterMemory: env['TORPEDO_K8S_MASTER_MEMORY'] || '512Mi',
    pods: podPolicyFromEnv(env),
    masterRestarts: integer(env, 'TORPEDO_K8S_MASTER_RESTARTS', 6, 0, 1000),
    ttlSecondsAfterFinished: integer(env, 'TORPEDO_K8S_TTL_SECONDS', 3600, 0, 365 * 86400),
    startTimeoutSeconds: integer(env, 'TORPEDO_K8S_START_TIMEOUT', 300, 1, 86400),
    runAsUser: integer(env, 'TORPEDO_K8S_RUN_AS_USER', 10001, 1, 2 ** 31 - 1),
    runAsGroup: integer(env, 'TORPEDO_K8S_RUN_AS_GROUP', 10001, 0, 2 ** 31 - 1),
    hostUsers: boolean(env, 'TORPEDO_K8S_HOST_USERS', true),
    compileCpu: env['TORPEDO_K8S_COMPILE_CPU'] || '1',
    compileMemory: env['TORPEDO_K8S_COMPILE_MEMORY'] || '2Gi',
  };
}

/**
 * The variables that give a master pod the settings it was created with, so that its launcher
 * builds the workers Job the way the manager would. The namespace is not among them: the pod
 * learns it from the downward API.
 */
export function settingsEnv(s: KubeSettings): { name: string; value: string }[] {
  const vars: Record<string, string | number | undefined> = {
    TORPEDO_K8S_IMAGE: s.image,
    TORPEDO_K8S_IMAGE_PULL_POLICY: s.imagePullPolicy,
    TORPEDO_K8S_DATA_CLAIM: s.dataClaim,
    TORPEDO_K8S_DATA_PATH: s.dataPath,
    TORPEDO_K8S_MASTER_SERVICE_ACCOUNT: s.masterServiceAccount,
    TORPEDO_K8S_WORKER_SERVICE_ACCOUNT: s.workerServiceAccount,
    ...podPolicyEnv(s.pods),
    TORPEDO_K8S_TTL_SECONDS: s.ttlSecondsAfterFinished,
    TORPEDO_K8S_START_TIMEOUT: s.startTimeoutSeconds,
    TORPEDO_K8S_RUN_AS_USER: s.runAsUser,
    TORPEDO_K8S_RUN_AS_GROUP: s.runAsGroup,
    TORPEDO_K8S_HOST_USERS: s.hostUsers ? undefined : 'false',
  };
  return Object.entries(vars)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([name, value]) => ({ name, value: String(value) }));
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be an integer in [${min}, ${max}], not ${JSON.stringify(raw)}`);
  return n;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be \`true\` or \`false\`, not ${JSON.stringify(raw)}`);
  return raw === 'true';
}
