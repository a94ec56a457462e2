import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { isTorpedoError, TorpedoError } from '../errors.ts';
import type { JobSummary } from '../master/job-summary.ts';
import { readMasterSpec } from '../master/master-spec.ts';
import { parseMasterStatus, type MasterStatus } from '../protocol/master-status.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import { clusterError, isConflict, isNotFound, kubeCall, kubeClients, type KubeClients } from './kube-client.ts';
import { kubeSettingsFromEnv, type KubeSettings } from './kube-settings.ts';
import { jobObjectNames, jobSelector } from './names.ts';
import { workersNetworkPolicy } from './network-policies.ts';
import { jobSecret, masterJob, ownerReference } from './objects.ts';
import { startProblem } from './pod-start-problems.ts';

/** What `torpedo master --status-file` writes; defined in protocol/master-status.ts. */
export type { MasterStatus } from '../protocol/master-status.ts';

/** Where a master Job stands, from its status conditions. */
export type MasterJobState =
  | { readonly state: 'active'; readonly failedPods: number }
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly reason: string; readonly message: string }
  | { readonly state: 'missing' };

/** What a look at a job on the cluster shows. */
export interface Observation {
  /** The master's last status file, if it has written one. */
  readonly status: MasterStatus | undefined;
  /** The master Job's state, when it was asked for. */
  readonly master: MasterJobState | undefined;
  /**
   * Set once the job is over: from the master's final status, or from its Job having failed (or
   * ended) without one — a master that could not start or kept dying.
   */
  readonly end: { readonly status: 'succeeded' | 'failed'; readonly summary?: JobSummary; readonly error?: ErrorReport } | undefined;
}

/**
 * The manager's side of running jobs on a cluster (`TORPEDO_LAUNCHER=kubernetes`): starting a
 * prepared job as a master Job with its Secret and NetworkPolicy, cancelling it, and reading how
 * it goes — from the master's status file on the shared volume and the master Job's status — so
 * that any manager replica can follow any job. Needs, in the manager's namespace: jobs
 * create/get/delete, secrets and networkpolicies create/delete, and pods list (to tell why a
 * master does not start). What fails here (an API
 * call, after kubeCall's retries; a master that cannot start) is a TORPEDO_ERR_CLUSTER.
 */
export class ClusterJobs {
  readonly settings: KubeSettings;
  readonly #clients: KubeClients;
  readonly #log: (line: string) => void;

  constructor(o: { settings: KubeSettings; clients: KubeClients; log?: (line: string) => void }) {
    this.settings = o.settings;
    this.#clients = o.clients;
    this.#log = o.log ?? (() => {});
  }

  /** Settings from TORPEDO_K8S_*, the API from $KUBECONFIG, ~/.kube/config or the service account. */
  static fromEnv(env: NodeJS.ProcessEnv, log?: (line: string) => void): ClusterJobs {
    const settings = kubeSettingsFromEnv(env);
    return new ClusterJobs({ settings, clients: kubeClients(settings), ...(log !== undefined ? { log } : {}) });
  }

  get namespace(): string {
    return this.#clients.namespace;
  }

  /**
   * Starts the master of a prepared job: creates the master Job, then, owned by it (so that
   * deleting the Job deletes them), the NetworkPolicy that lets its workers reach it and nothing
   * else, and the per-job Secret — last, since no pod of the job starts without it: no worker runs
   * before its policy exists. Idempotent: a master Job that exists already (a retry, or another
   * replica) is left as it is.
   */
  async start(o: { jobId: string; jobDir: string; statusFile: string }): Promise<void> {
    const { batch, core, namespace } = this.#clients;
    const names = jobObjectNames(o.jobId);
    // The master names the workers Job and finds the Secret by the id in job.json.
    const spec = readMasterSpec(o.jobDir);
    if (spec.jobId !== o.jobId) throw new TorpedoError('TORPEDO_ERR_CLUSTER', `${o.jobDir}/job.json is job ${spec.jobId}, not ${o.jobId}`);
    const body = masterJob({ settings: this.settings, namespace, jobId: o.jobId, jobDir: o.jobDir, statusFile: o.statusFile, spec });
    let uid: string | undefined;
    try {
      uid = (await kubeCall(`create Job ${names.master}`, () => batch.createNamespacedJob({ namespace, body }))).metadata?.uid;
    } catch (e) {
      if (!isConflict(e)) throw clusterError(e);
      this.#log(`Job ${names.master} exists already: following it`);
      return;
    }
    const owner = ownerReference({ apiVersion: 'batch/v1', kind: 'Job', name: names.master, uid: uid ?? '' });
    const secret = jobSecret({ namespace, jobId: o.jobId, token: randomBytes(24).toString('base64url'), owner });
    try {
      await this.#createNetworkPolicy(o.jobId, owner);
      await kubeCall(`create Secret ${names.secret}`, () => core.createNamespacedSecret({ namespace, body: secret }));
    } catch (e) {
      // Without its Secret the master pod never starts: take the Job back (and its policy with it).
      await this.#deleteJob(names.master, uid).catch(() => {});
      throw clusterError(e);
    }
    this.#log(`created Job ${names.master}, NetworkPolicy ${names.network} and Secret ${names.secret} in ${namespace}`);
  }

  /** The workers' NetworkPolicy; one left by an earlier master Job of this job (going with it) is replaced. */
  async #createNetworkPolicy(jobId: string, owner: V1OwnerReference): Promise<void> {
    const { networking, namespace } = this.#clients;
    const body = workersNetworkPolicy({ settings: this.settings, namespace, jobId, owner });
    const create = (): Promise<unknown> => kubeCall(`create NetworkPolicy ${body.metadata?.name ?? ''}`, () => networking.createNamespacedNetworkPolicy({ namespace, body }));
    try {
      await create();
    } catch (e) {
      if (!isConflict(e)) throw e;
      await this.#deleteNetworkPolicy(jobId);
      await create();
    }
  }

  async #deleteNetworkPolicy(jobId: string): Promise<void> {
    const { networking, namespace } = this.#clients;
    const name = jobObjectNames(jobId).network;
    await kubeCall(`delete NetworkPolicy ${name}`, () => networking.deleteNamespacedNetworkPolicy({ name, namespace })).catch((e: unknown) => {
      if (!isNotFound(e)) throw clusterError(e);
    });
  }

  /**
   * Deletes everything the job created: the master Job (whose pods get SIGTERM), and with it,
   * through owner references, its Secret, its NetworkPolicy and its workers Job with their pods.
   * These are also deleted by name, in case the garbage collector is slow or an owner reference
   * is missing. Idempotent.
   */
  async cancel(jobId: string): Promise<void> {
    const names = jobObjectNames(jobId);
    await this.#deleteJob(names.master, undefined);
    await this.deleteWorkers(jobId);
    const { core, namespace } = this.#clients;
    await kubeCall(`delete Secret ${names.secret}`, () => core.deleteNamespacedSecret({ name: names.secret, namespace })).catch((e: unknown) => {
      if (!isNotFound(e)) throw clusterError(e);
    });
    await this.#deleteNetworkPolicy(jobId);
  }

  /**
   * Deletes the job's workers Job. Its master does this when it ends; this is the backstop for a
   * master that died for good, whose workers would otherwise wait for it and be replaced until the
   * master Job's TTL runs out.
   */
  async deleteWorkers(jobId: string): Promise<void> {
    await this.#deleteJob(jobObjectNames(jobId).workers, undefined);
  }

  /** The master Job's state: active (with how many pods failed so far), succeeded, failed or missing. */
  async masterState(jobId: string): Promise<MasterJobState> {
    const { batch, namespace } = this.#clients;
    const name = jobObjectNames(jobId).master;
    let job;
    try {
      job = await kubeCall(`get Job ${name}`, () => batch.readNamespacedJob({ name, namespace }));
    } catch (e) {
      if (isNotFound(e)) return { state: 'missing' };
      throw clusterError(e);
    }
    const conditions = job.status?.conditions ?? [];
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed !== undefined) return { state: 'failed', reason: failed.reason ?? 'Failed', message: failed.message ?? '' };
    if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { state: 'succeeded' };
    return { state: 'active', failedPods: job.status?.failed ?? 0 };
  }

  /**
   * Looks at a job: its status file, and (with `checkJob`; it costs an API call) its master Job.
   * The status file is read again after the Job is seen ended, since the master writes its final
   * status before it exits. A status file that does not parse counts as none (the master
   * rewrites it every interval), but a job that ends without a good one says what was wrong.
   */
  async observe(jobId: string, statusFile: string, checkJob: boolean): Promise<Observation> {
    let unreadable: string | undefined;
    const read = (): MasterStatus | undefined => {
      unreadable = undefined;
      try {
        return this.readStatus(statusFile);
      } catch (e) {
        if (!isTorpedoError(e) || e.code !== 'TORPEDO_ERR_CORRUPT_DATA') throw e;
        unreadable = e.message;
        return undefined;
      }
    };
    let status = read();
    const final = (s: MasterStatus | undefined): Observation['end'] =>
      s !== undefined && s.state !== 'running' && s.summary !== undefined
        ? { status: s.state, summary: s.summary, ...(s.summary.error !== undefined ? { error: s.summary.error } : {}) }
        : undefined;
    if (final(status) !== undefined || !checkJob) return { status, master: undefined, end: final(status) };
    const master = await this.masterState(jobId);
    if (master.state === 'failed' || master.state === 'succeeded') {
      status = read();
      const end = final(status);
      if (end !== undefined) return { status, master, end };
      const name = jobObjectNames(jobId).master;
      const message =
        master.state === 'failed'
          ? `the master Job ${name} failed (${master.reason}): ${master.message}; \`kubectl logs -n ${this.namespace} job/${name}\` shows why`
          : `the master Job ${name} ended without writing the job's final status`;
      const why = unreadable !== undefined ? `; ${unreadable}` : '';
      return { status, master, end: { status: 'failed', error: { code: 'TORPEDO_ERR_CLUSTER', message: message + why } } };
    }
    if (master.state === 'active' && status === undefined) {
      const stuck = await this.#stuckMaster(jobId);
      if (stuck !== undefined) {
        // It will not start by itself: take it away, and say why.
        await this.#deleteJob(jobObjectNames(jobId).master, undefined);
        return { status, master, end: { status: 'failed', error: { code: 'TORPEDO_ERR_CLUSTER', message: `the master could not start: ${stuck}` } } };
      }
    }
    return { status, master, end: undefined };
  }

  /**
   * A master pod that has been waiting for longer than the start timeout for something that will
   * not come by itself (an image it cannot pull, a missing Secret, no node to run on), described.
   */
  async #stuckMaster(jobId: string): Promise<string | undefined> {
    const { core, namespace } = this.#clients;
    let pods;
    try {
      pods = await kubeCall(`list pods of ${jobId}`, () => core.listNamespacedPod({ namespace, labelSelector: jobSelector(jobId, 'master') }));
    } catch (e) {
      throw clusterError(e);
    }
    const timeoutMs = this.settings.startTimeoutSeconds * 1000;
    for (const pod of pods.items) {
      const created = pod.metadata?.creationTimestamp;
      if (created === undefined || Date.now() - new Date(created).getTime() < timeoutMs) continue;
      const problem = startProblem(pod);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  /**
   * The master's last status, or undefined if it has not written one yet. A status file that is
   * there but not a whole status is a TORPEDO_ERR_CORRUPT_DATA: the master replaces it through a
   * rename, so a reader never sees it half written.
   */
  readStatus(statusFile: string): MasterStatus | undefined {
    let text: string;
    try {
      text = readFileSync(statusFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return parseMasterStatus(text, statusFile);
  }

  async #deleteJob(name: string, uid: string | undefined): Promise<void> {
    const { batch, namespace } = this.#clients;
    try {
      // Background: the Job goes now, its pods and dependents after. (Without a policy a batch/v1
      // Job would orphan them.)
      await kubeCall(`delete Job ${name}`, () =>
        batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background', ...(uid !== undefined ? { body: { preconditions: { uid } } } : {}) }),
      );
      this.#log(`deleted Job ${name}`);
    } catch (e) {
      if (!isNotFound(e)) throw clusterError(e);
    }
  }
}
