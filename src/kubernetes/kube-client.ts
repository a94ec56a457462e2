import { setTimeout as sleep } from 'node:timers/promises';
import { BatchV1Api, CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { TorpedoError, isTorpedoError } from '../errors.ts';
import type { KubeSettings } from './kube-settings.ts';

/** The API clients torpedo uses, and the namespace its objects live in. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly namespace: string;
}

/**
 * Connects the way kubectl would: KUBECONFIG if set, else ~/.kube/config, else the pod's
 * service account (in a cluster). The namespace is TORPEDO_K8S_NAMESPACE, else the current
 * context's (a service account's own namespace in a pod), else `default`.
 */
export function kubeClients(settings: Pick<KubeSettings, 'namespace' | 'kubeconfig'>): KubeClients {
  const config = new KubeConfig();
  // Only the first file of a KUBECONFIG list: torpedo needs one context, not kubectl's merging.
  if (settings.kubeconfig !== undefined) config.loadFromFile(settings.kubeconfig.split(':')[0] as string);
  else config.loadFromDefault();
  const namespace = settings.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  return { config, batch: config.makeApiClient(BatchV1Api), core: config.makeApiClient(CoreV1Api), networking: config.makeApiClient(NetworkingV1Api), namespace };
}

/** The HTTP status of a failed API call (client-node's ApiException has `code`; a watch's error `statusCode`). */
export function statusOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as { code?: unknown; statusCode?: unknown };
  if (typeof o.code === 'number') return o.code;
  if (typeof o.statusCode === 'number') return o.statusCode;
  return undefined;
}

export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusOf(e) === 409;

/** A short description of a failed API call: its status and the Status object's message. */
export function describeError(e: unknown): string {
  const status = statusOf(e);
  const body = (e as { body?: unknown } | null)?.body;
  let message = (e as Error | null)?.message ?? String(e);
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not a Status object
    }
  }
  return status !== undefined ? `${status}: ${message.split('\n')[0]}` : message;
}

/**
 * The one place Kubernetes API calls are retried: network errors, 429 and 5xx, with backoff from
 * 100 ms doubling to 2 s, for up to `giveUpMs` (default 30 s). Any other answer (404, 409, 403 …)
 * is final and thrown at once, for the caller to interpret.
 */
export async function kubeCall<T>(what: string, fn: () => Promise<T>, giveUpMs = 30_000): Promise<T> {
  const deadline = performance.now() + giveUpMs;
  let delay = 100;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      const status = statusOf(e);
      const transient = status === undefined || status === 429 || status >= 500;
      if (!transient || performance.now() + delay > deadline) {
        const error = new Error(`Kubernetes API: ${what} failed: ${describeError(e)}`, { cause: e });
        Object.assign(error, { code: status });
        throw error;
      }
      await sleep(delay);
      delay = Math.min(2000, delay * 2);
    }
  }
}

/** An API call that failed for good (kubeCall retried the transient failures), as torpedo reports it. */
export function clusterError(e: unknown): TorpedoError {
  return isTorpedoError(e) ? e : new TorpedoError('TORPEDO_ERR_CLUSTER', (e as Error).message);
}
