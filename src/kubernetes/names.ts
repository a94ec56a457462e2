import { createHash } from 'node:crypto';
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { TorpedoError } from '../errors.ts';

/** What a pod does: `compile` pods check a submission's code (src/kubernetes/pod-code-checker.ts). */
export type Component = 'master' | 'worker' | 'compile';

/** The names of the objects torpedo creates for one job. */
export interface JobObjectNames {
  /** The master Job (its pods are `<name>-xxxxx`). */
  readonly master: string;
  /** The workers Job, created by the master. */
  readonly workers: string;
  /** The Secret holding the per-job token. */
  readonly secret: string;
  /** The NetworkPolicy that lets the job's workers reach their master, and nothing else. */
  readonly network: string;
  /** The Job (and NetworkPolicy) that checks the job's submitted code. */
  readonly compile: string;
}

/**
 * A Job's name must be a DNS label (its pods carry it in a label, at most 63 characters) and its
 * pods add `-xxxxx`; 52 characters is the length Kubernetes itself keeps CronJob-made Jobs under.
 */
const MAX_NAME = 52;
const PREFIX = 'torpedo-';
const LONGEST_SUFFIX = '-workers';

export function jobObjectNames(jobId: string): JobObjectNames {
  const base = PREFIX + slug(jobId, MAX_NAME - PREFIX.length - LONGEST_SUFFIX.length);
  return { master: `${base}-master`, workers: `${base}-workers`, secret: `${base}-token`, network: `${base}-network`, compile: `${base}-compile` };
}

/** The key of the token in the per-job Secret. */
export const TOKEN_KEY = 'token';

/** The label that names a job's objects (`kubectl get pods -l torpedo/job-id=ID`). */
export const JOB_ID_LABEL = 'torpedo/job-id';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** Labels on everything torpedo creates for a job; NetworkPolicies select pods by the component. */
export function jobLabels(jobId: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'torpedo',
    'app.kubernetes.io/part-of': 'torpedo',
    'app.kubernetes.io/managed-by': 'torpedo',
    [COMPONENT_LABEL]: component,
    [JOB_ID_LABEL]: labelValue(jobId),
  };
}

/**
 * The metadata of one of a job's objects: its name, namespace, the job's labels and, when it has
 * one, the owner whose deletion takes it along.
 */
export function jobObjectMeta(o: { readonly name: string; readonly namespace: string; readonly jobId: string; readonly component: Component; readonly owner?: V1OwnerReference | undefined }): V1ObjectMeta {
  return { name: o.name, namespace: o.namespace, labels: jobLabels(o.jobId, o.component), ...(o.owner !== undefined ? { ownerReferences: [o.owner] } : {}) };
}

/** A label selector string for a job's objects of one component. */
export function jobSelector(jobId: string, component: Component): string {
  return `${JOB_ID_LABEL}=${labelValue(jobId)},${COMPONENT_LABEL}=${component}`;
}

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Job ids made by torpedo are valid label values; a hand-written job.json's may not be. */
function labelValue(jobId: string): string {
  if (jobId === '' || !LABEL_VALUE.test(jobId)) {
    throw new TorpedoError(
      'TORPEDO_ERR_BAD_FLAG',
      `job id ${JSON.stringify(jobId)} cannot label Kubernetes objects: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
    );
  }
  return jobId;
}

/** Lower-case DNS-label characters; shortened with a hash of the whole id when too long. */
function slug(id: string, max: number): string {
  const clean = id
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (clean.length <= max && clean === id) return clean;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  const head = clean.slice(0, max - hash.length - 1).replace(/-+$/, '');
  return head === '' ? hash : `${head}-${hash}`;
}
