import { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import { firstIssue } from '../protocol/schema-issue.ts';
import { LabelKeySchema, PodRequestSchema, QuantitySchema, quantityValue, TolerationSchema, type PodRequest, type Toleration } from '../protocol/pod-settings.ts';

/**
 * What the operator decides about the pods of jobs, from TORPEDO_K8S_* (kube-settings.ts): the
 * defaults every job's pods get, and the bounds within which a job's owner may choose its own
 * (src/protocol/pod-settings.ts, PodRequest). Image pull Secrets are the operator's alone: a user
 * who could name one could pull with another team's registry credentials.
 */
export interface PodPolicy {
  /** TORPEDO_K8S_WORKER_CPU (default 500m): each worker's CPU request when the job asks for none. */
  readonly workerCpu: string;
  /** TORPEDO_K8S_WORKER_MAX_CPU (default 4): the most CPU a job may ask for per worker. */
  readonly maxWorkerCpu: string;
  /** TORPEDO_K8S_WORKER_MAX_MEMORY (default 16Gi): the most memory a job may ask for per worker. */
  readonly maxWorkerMemory: string;
  /** TORPEDO_K8S_NODE_SELECTOR (`key=value,…`): every job pod's nodeSelector. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** TORPEDO_K8S_USER_NODE_SELECTOR_KEYS (`key,…`; default none): the node labels users may select on. */
  readonly userNodeSelectorKeys: readonly string[];
  /** TORPEDO_K8S_TOLERATIONS (a JSON array of tolerations): every job pod's. */
  readonly tolerations: readonly Toleration[];
  /** TORPEDO_K8S_USER_TOLERATION_KEYS (`key,…`; default none): the taints users may tolerate. */
  readonly userTolerationKeys: readonly string[];
  /** TORPEDO_K8S_PRIORITY_CLASS: every job pod's priorityClassName unless the job picks another. */
  readonly priorityClassName: string | undefined;
  /** TORPEDO_K8S_PRIORITY_CLASSES (`name,…`): the PriorityClasses users may pick (and the default). */
  readonly userPriorityClasses: readonly string[];
  /** TORPEDO_K8S_IMAGE_PULL_SECRETS (`name,…`): every torpedo pod's imagePullSecrets; operators only. */
  readonly imagePullSecrets: readonly string[];
}

/** Where a job's pods run, as a pod spec has it. */
export interface PodPlacement {
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  readonly priorityClassName: string | undefined;
}

/** A job's pod settings, decided: the operator's defaults with the owner's choices, within bounds. */
export interface JobPods extends PodPlacement {
  readonly workerCpu: string;
  /** Undefined: worked out from the job's memory settings (objects.ts, workerMemoryBytes). */
  readonly workerMemory: string | undefined;
}

export function podPolicyFromEnv(env: NodeJS.ProcessEnv): PodPolicy {
  const workerCpu = quantity(env, 'TORPEDO_K8S_WORKER_CPU', '500m');
  const maxWorkerCpu = quantity(env, 'TORPEDO_K8S_WORKER_MAX_CPU', '4');
  const maxWorkerMemory = quantity(env, 'TORPEDO_K8S_WORKER_MAX_MEMORY', '16Gi');
  if (quantityValue(workerCpu) > quantityValue(maxWorkerCpu)) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_K8S_WORKER_CPU (${workerCpu}) is more than TORPEDO_K8S_WORKER_MAX_CPU (${maxWorkerCpu})`);
  }
  const priorityClassName = env['TORPEDO_K8S_PRIORITY_CLASS'] || undefined;
  return {
    workerCpu,
    maxWorkerCpu,
    maxWorkerMemory,
    nodeSelector: Object.fromEntries(list(env, 'TORPEDO_K8S_NODE_SELECTOR').map((pair) => keyValue('TORPEDO_K8S_NODE_SELECTOR', pair))),
    userNodeSelectorKeys: list(env, 'TORPEDO_K8S_USER_NODE_SELECTOR_KEYS').map((k) => labelKey('TORPEDO_K8S_USER_NODE_SELECTOR_KEYS', k)),
    tolerations: tolerations(env),
    userTolerationKeys: list(env, 'TORPEDO_K8S_USER_TOLERATION_KEYS').map((k) => labelKey('TORPEDO_K8S_USER_TOLERATION_KEYS', k)),
    priorityClassName,
    userPriorityClasses: list(env, 'TORPEDO_K8S_PRIORITY_CLASSES'),
    imagePullSecrets: list(env, 'TORPEDO_K8S_IMAGE_PULL_SECRETS'),
  };
}

/** The variables that give a master pod this policy (kube-settings.ts, settingsEnv). */
export function podPolicyEnv(p: PodPolicy): Record<string, string | undefined> {
  const joined = (xs: readonly string[]): string | undefined => (xs.length > 0 ? xs.join(',') : undefined);
  return {
    TORPEDO_K8S_WORKER_CPU: p.workerCpu,
    TORPEDO_K8S_WORKER_MAX_CPU: p.maxWorkerCpu,
    TORPEDO_K8S_WORKER_MAX_MEMORY: p.maxWorkerMemory,
    TORPEDO_K8S_NODE_SELECTOR: joined(Object.entries(p.nodeSelector).map(([k, v]) => `${k}=${v}`)),
    TORPEDO_K8S_USER_NODE_SELECTOR_KEYS: joined(p.userNodeSelectorKeys),
    TORPEDO_K8S_TOLERATIONS: p.tolerations.length > 0 ? JSON.stringify(p.tolerations) : undefined,
    TORPEDO_K8S_USER_TOLERATION_KEYS: joined(p.userTolerationKeys),
    TORPEDO_K8S_PRIORITY_CLASS: p.priorityClassName,
    TORPEDO_K8S_PRIORITY_CLASSES: joined(p.userPriorityClasses),
    TORPEDO_K8S_IMAGE_PULL_SECRETS: joined(p.imagePullSecrets),
  };
}

/** The operator's placement: what pods of no job (compile pods) and jobs that ask for nothing get. */
export function defaultPlacement(p: PodPolicy): PodPlacement {
  return { nodeSelector: p.nodeSelector, tolerations: p.tolerations, priorityClassName: p.priorityClassName };
}

/**
 * A job's pods: the owner's `request` (checked against PodRequestSchema) within the policy's
 * bounds, the operator's defaults for the rest. What is out of bounds is a TORPEDO_ERR_BAD_REQUEST
 * saying what is allowed: POST /jobs answers it with 400, and `torpedo k8s render-job` prints it.
 * Called at submit, and again by the master (the operator may have narrowed the bounds since).
 */
export function resolveJobPods(p: PodPolicy, request: unknown): JobPods {
  const r = parsePodRequest(request);
  const refuse = (message: string): never => {
    throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `pods: ${message}`);
  };
  if (r.cpu !== undefined && !(quantityValue(r.cpu) > 0 && quantityValue(r.cpu) <= quantityValue(p.maxWorkerCpu))) {
    refuse(`cpu ${r.cpu} is out of bounds: this cluster allows more than 0 and at most ${p.maxWorkerCpu} per worker`);
  }
  if (r.memory !== undefined && !(quantityValue(r.memory) >= 2 ** 26 && quantityValue(r.memory) <= quantityValue(p.maxWorkerMemory))) {
    refuse(`memory ${r.memory} is out of bounds: this cluster allows 64Mi to ${p.maxWorkerMemory} per worker`);
  }
  const allowed = (keys: readonly string[]): string => (keys.length > 0 ? `only ${keys.join(', ')}` : 'none');
  for (const key of Object.keys(r.nodeSelector ?? {})) {
    if (!p.userNodeSelectorKeys.includes(key)) refuse(`nodeSelector ${key} is not one users may set on this cluster (allowed: ${allowed(p.userNodeSelectorKeys)})`);
    if (key in p.nodeSelector && p.nodeSelector[key] !== r.nodeSelector?.[key]) refuse(`nodeSelector ${key} is set by the operator to ${p.nodeSelector[key] ?? ''}`);
  }
  for (const t of r.tolerations ?? []) {
    if (!p.userTolerationKeys.includes(t.key)) refuse(`a toleration of ${t.key} is not one users may have on this cluster (allowed: ${allowed(p.userTolerationKeys)})`);
  }
  const classes = [...new Set([...(p.priorityClassName !== undefined ? [p.priorityClassName] : []), ...p.userPriorityClasses])];
  if (r.priorityClassName !== undefined && !classes.includes(r.priorityClassName)) {
    refuse(`priorityClassName ${r.priorityClassName} is not one users may pick on this cluster (allowed: ${allowed(classes)})`);
  }
  return {
    workerCpu: r.cpu ?? p.workerCpu,
    workerMemory: r.memory,
    nodeSelector: { ...p.nodeSelector, ...r.nodeSelector },
    tolerations: [...p.tolerations, ...(r.tolerations ?? [])],
    priorityClassName: r.priorityClassName ?? p.priorityClassName,
  };
}

/** The owner's request as PodRequestSchema reads it (defaults filled in), or a TORPEDO_ERR_BAD_REQUEST. */
export function parsePodRequest(request: unknown): PodRequest {
  const parsed = PodRequestSchema.safeParse(request ?? {});
  if (!parsed.success) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `pods: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function quantity(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!QuantitySchema.safeParse(raw).success) throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be a Kubernetes quantity (e.g. 500m, 2, 4Gi), not ${JSON.stringify(raw)}`);
  return raw;
}

function labelKey(name: string, key: string): string {
  if (!LabelKeySchema.safeParse(key).success) throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name}: ${JSON.stringify(key)} is not a label key`);
  return key;
}

function keyValue(name: string, pair: string): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0) throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be key=value pairs separated by commas, not ${JSON.stringify(pair)}`);
  return [labelKey(name, pair.slice(0, at)), pair.slice(at + 1)];
}

function tolerations(env: NodeJS.ProcessEnv): Toleration[] {
  const raw = env['TORPEDO_K8S_TOLERATIONS'];
  if (raw === undefined || raw === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_K8S_TOLERATIONS must be a JSON array of tolerations: ${(e as Error).message}`);
  }
  const parsed = z.array(TolerationSchema).safeParse(json);
  if (!parsed.success) throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_K8S_TOLERATIONS ${firstIssue(parsed.error)}`);
  return parsed.data;
}
