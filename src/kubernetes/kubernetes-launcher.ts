import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { Launcher, WorkerExit } from '../launcher/launcher.ts';
import { jobGrants } from '../launcher/job-gateway.ts';
import { TorpedoError } from '../errors.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import type { MasterSpec } from '../master/master-spec.ts';
import { describeError, isConflict, isNotFound, kubeCall, kubeClients, type KubeClients } from './kube-client.ts';
import { kubeSettingsFromEnv, type KubeSettings } from './kube-settings.ts';
import { jobObjectNames, jobSelector, type JobObjectNames } from './names.ts';
import { ownerReference, workersJob } from './objects.ts';
import { missingPods } from './pod-start-problems.ts';
import { PodWatch, type PodEvent } from './pod-watch.ts';

/** How long a pod's log may take to fetch before its death is reported without it. */
const LOG_TIMEOUT_MS = 2000;
const LOG_LINES = 40;
/** How long to wait for an earlier master's workers Job to go before creating ours. */
const STALE_JOB_WAIT_MS = 60_000;

export interface KubernetesLauncherOptions {
  readonly spec: MasterSpec;
  readonly settings: KubeSettings;
  readonly clients: KubeClients;
  /**
   * The master's environment: TORPEDO_TOKEN (the per-job Secret's token, which workers get too),
   * and in a pod TORPEDO_POD_NAME, whose owning Job becomes the workers Job's owner.
   */
  readonly env: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

/** The launcher `torpedo master --launcher kubernetes` uses, with settings from its environment. */
export function createKubernetesLauncher(o: { spec: MasterSpec; env?: NodeJS.ProcessEnv; log?: (line: string) => void }): KubernetesLauncher {
  // Worker pods have no storage gateway yet (docs/storage.md, "Who may reach what").
  const remote = jobGrants(o.spec)?.read[0];
  if (remote !== undefined) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `input s3://${remote.bucket}/${'key' in remote ? remote.key : remote.prefix}: inputs in S3 are read by workers on this machine only for now (torpedo run); on Kubernetes, put them on the job's shared volume`);
  }
  const env = o.env ?? process.env;
  const settings = kubeSettingsFromEnv(env);
  return new KubernetesLauncher({ spec: o.spec, settings, clients: kubeClients(settings), env, ...(o.log !== undefined ? { log: o.log } : {}) });
}

/**
 * A pool launcher whose workers are a Kubernetes Job with `parallelism = W`: the Job controller
 * keeps W worker pods running and replaces those that die, and a watch on the job's worker pods
 * tells the master of each death at once (with the tail of the pod's log), so that the master
 * re-runs its task without waiting for a lease to expire. Worker ids are pod names.
 */
export class KubernetesLauncher implements Launcher {
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  onFail: (error: ErrorReport) => void = () => {};
  onEvent: (message: string) => void = () => {};
  readonly #o: KubernetesLauncherOptions;
  readonly #log: (line: string) => void;
  readonly #names: JobObjectNames;
  /** The uid of the workers Job this master created; pods of any other are not ours. */
  #jobUid: string | undefined;
  #watch: PodWatch | undefined;
  /** Our pods not yet reported as ended. */
  readonly #live = new Map<string, V1Pod>();
  readonly #reported = new Set<string>();
  /** Pods this launcher deleted (stopWorker): their end is a kill, whatever the exit code says. */
  readonly #deleted = new Set<string>();
  readonly #idle = new Set<() => void>();
  /** Our pods whose container has started (running, or ended after running). */
  readonly #started = new Set<string>();
  /** W, as startPool was given it. */
  #workers = 0;
  #startCheck: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(o: KubernetesLauncherOptions) {
    this.#o = o;
    this.#log = o.log ?? (() => {});
    this.#names = jobObjectNames(o.spec.jobId);
  }

  /** The namespace and name of the workers Job; for logs and tests. */
  get workersJob(): { namespace: string; name: string; uid: string | undefined } {
    return { namespace: this.#o.clients.namespace, name: this.#names.workers, uid: this.#jobUid };
  }

  /** How often the pod watch was started and the pods listed (a re-list follows a 410). */
  get watchStats(): { watches: number; lists: number } {
    return { watches: this.#watch?.watches ?? 0, lists: this.#watch?.lists ?? 0 };
  }

  async startPool(workers: number, masterUrl: string, token: string): Promise<void> {
    if (this.#o.env['TORPEDO_TOKEN'] !== token) {
      throw new Error(
        `the kubernetes launcher gives workers the token in the Secret ${this.#names.secret}; run the master with TORPEDO_TOKEN set from it (the master Job does)`,
      );
    }
    const { batch, namespace } = this.#o.clients;
    const owner = await this.#owner();
    const body = workersJob({ settings: this.#o.settings, namespace, spec: { ...this.#o.spec, workers }, masterUrl, ...(owner !== undefined ? { owner } : {}) });
    // A restarted master has a new address: an earlier master's workers Job must go first.
    const deadline = performance.now() + STALE_JOB_WAIT_MS;
    for (;;) {
      await this.#deleteWorkersJob(undefined);
      try {
        const created = await kubeCall(`create Job ${this.#names.workers}`, () => batch.createNamespacedJob({ namespace, body }));
        this.#jobUid = created.metadata?.uid;
        break;
      } catch (e) {
        // The old Job is still being deleted (its finalizers), or another master raced us.
        if (!isConflict(e) || performance.now() > deadline) throw e;
        await sleep(500);
      }
    }
    this.#log(`created Job ${this.#names.workers} (${workers} workers) in ${namespace}`);
    this.#workers = workers;
    this.#watch = new PodWatch(this.#o.clients, jobSelector(this.#o.spec.jobId, 'worker'), (type, pod) => this.#onPod(type, pod), this.#log);
    await this.#watch.start();
    this.#startCheck = setTimeout(() => this.#checkStarted(), this.#o.settings.startTimeoutSeconds * 1000);
    this.#startCheck.unref();
  }

  /**
   * TORPEDO_K8S_START_TIMEOUT after the workers Job was created: with no worker pod started, the
   * job fails (TORPEDO_ERR_PODS_NOT_STARTED) with what keeps them waiting (unschedulable, an image
   * that cannot be pulled, a quota); with some started but fewer than W, the job goes on with
   * those, and its events say what is missing. Pods that start later join it as they come.
   */
  #checkStarted(): void {
    if (this.#stopping !== undefined) return;
    const pods = [...this.#live.values()];
    const running = pods.filter((p) => this.#started.has(p.metadata?.name ?? '')).length;
    const notStarted = pods.filter((p) => !this.#started.has(p.metadata?.name ?? ''));
    const seconds = this.#o.settings.startTimeoutSeconds;
    const why = (): string => missingPods(notStarted, pods.length, this.#workers, this.#names.workers);
    if (this.#started.size === 0) {
      this.onFail({ code: 'TORPEDO_ERR_PODS_NOT_STARTED', message: `0 of ${this.#workers} worker pods started in ${seconds} s: ${why()}` });
    } else if (running < this.#workers) {
      this.onEvent(`${this.#workers - running} of ${this.#workers} worker pods not started after ${seconds} s: ${why()}; the job goes on with ${running}`);
    }
  }

  stopWorker(workerId: string): void {
    if (!this.#live.has(workerId) || this.#deleted.has(workerId)) return;
    this.#deleted.add(workerId);
    const { core, namespace } = this.#o.clients;
    kubeCall(`delete Pod ${workerId}`, () => core.deleteNamespacedPod({ name: workerId, namespace })).catch((e: unknown) => {
      if (!isNotFound(e)) this.#log(`stopping worker ${workerId}: ${(e as Error).message}`);
    });
  }

  /**
   * Waits up to `graceMs` for the workers to leave (they exit 0 once the master answers `exit`),
   * then deletes the workers Job, which takes any pod still running with it.
   */
  stopAll(graceMs = 1000): Promise<void> {
    clearTimeout(this.#startCheck);
    this.#stopping ??= (async () => {
      if (this.#live.size > 0) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.#idle.delete(done);
            resolve();
          };
          const timer = setTimeout(done, graceMs);
          this.#idle.add(done);
        });
      }
      if (this.#jobUid !== undefined) await this.#deleteWorkersJob(this.#jobUid).catch((e: unknown) => this.#log(`deleting Job ${this.#names.workers}: ${(e as Error).message}`));
      this.#watch?.stop();
    })();
    return this.#stopping;
  }

  /**
   * Who owns the workers Job: the Job that owns this master's pod (so that deleting the master Job
   * removes everything), else the pod itself; outside a pod, nothing (stopAll and the TTL clean up).
   */
  async #owner(): Promise<V1OwnerReference | undefined> {
    const podName = this.#o.env['TORPEDO_POD_NAME'];
    if (podName === undefined || podName === '') {
      this.#log('not in a pod (no TORPEDO_POD_NAME): the workers Job has no owner; it is deleted when this master ends, or by its TTL');
      return undefined;
    }
    const { core, namespace } = this.#o.clients;
    const pod = await kubeCall(`read Pod ${podName}`, () => core.readNamespacedPod({ name: podName, namespace }));
    const job = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job' && r.controller === true);
    if (job !== undefined) return ownerReference(job);
    return ownerReference({ apiVersion: 'v1', kind: 'Pod', name: podName, uid: pod.metadata?.uid ?? '' });
  }

  /** Deletes the workers Job (only the one with `uid`, if given), its pods in the background. */
  async #deleteWorkersJob(uid: string | undefined): Promise<void> {
    const { batch, namespace } = this.#o.clients;
    try {
      await kubeCall(`delete Job ${this.#names.workers}`, () =>
        batch.deleteNamespacedJob({
          name: this.#names.workers,
          namespace,
          // The default for batch/v1 Jobs is to orphan their pods: always say so.
          propagationPolicy: 'Background',
          ...(uid !== undefined ? { body: { preconditions: { uid } } } : {}),
        }),
      );
      this.#log(`deleted Job ${this.#names.workers}`);
    } catch (e) {
      if (isNotFound(e)) return;
      if (uid !== undefined && isConflict(e)) return; // a newer master's Job, not ours
      throw e;
    }
  }

  #onPod(type: PodEvent, pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const mine = pod.metadata?.ownerReferences?.some((r) => r.uid === this.#jobUid) === true;
    if (!mine || this.#reported.has(name)) return;
    if (hasStarted(pod)) this.#started.add(name);
    const terminated = workerState(pod);
    const phase = pod.status?.phase;
    if (type !== 'DELETED' && terminated === undefined && phase !== 'Succeeded' && phase !== 'Failed') {
      this.#live.set(name, pod);
      return;
    }
    this.#reported.add(name);
    this.#live.delete(name);
    if (this.#live.size === 0) for (const f of [...this.#idle]) f();
    void this.#report(name, pod, type === 'DELETED');
  }

  async #report(name: string, pod: V1Pod, gone: boolean): Promise<void> {
    const t = workerState(pod);
    const killed = gone || this.#deleted.has(name) || pod.metadata?.deletionTimestamp !== undefined;
    const notes: string[] = [];
    let exit: { code: number | null; signal: string | null };
    if (t?.reason === 'OOMKilled') {
      // Over the pod's memory limit: the task's doing (like running out of heap), not an outside kill.
      exit = { code: t.exitCode, signal: null };
      notes.push(`pod ${name} was killed for using more than its memory limit (OOMKilled)`);
    } else if (killed) {
      exit = { code: null, signal: 'SIGKILL' };
      if (t === undefined) notes.push(`pod ${name} was deleted`);
    } else if (t !== undefined) {
      exit = exitOf(t.exitCode, t.signal);
    } else {
      // Failed without a container status: evicted, or never started.
      exit = pod.status?.reason === 'Evicted' ? { code: null, signal: 'SIGKILL' } : { code: pod.status?.phase === 'Succeeded' ? 0 : 1, signal: null };
      notes.push(`pod ${name} ${pod.status?.phase ?? 'ended'}: ${pod.status?.reason ?? ''} ${pod.status?.message ?? ''}`.trim());
    }
    let log = '';
    if (!gone && exit.code !== 0) log = await this.#logTail(name);
    this.onExit(name, { ...exit, stderrTail: [log.trimEnd(), ...notes].filter(Boolean).join('\n') });
  }

  async #logTail(name: string): Promise<string> {
    const { core, namespace } = this.#o.clients;
    const timeout = sleep(LOG_TIMEOUT_MS, '', { ref: false });
    try {
      return await Promise.race([core.readNamespacedPodLog({ name, namespace, container: 'worker', tailLines: LOG_LINES }), timeout]);
    } catch (e) {
      return `(the log of pod ${name} could not be read: ${describeError(e)})`;
    }
  }
}

/** Whether the pod's worker container has started (is running, or ended after it ran). */
function hasStarted(pod: V1Pod): boolean {
  const c = pod.status?.containerStatuses?.find((s) => s.name === 'worker');
  return c?.state?.running !== undefined || c?.state?.terminated?.startedAt !== undefined || c?.started === true || pod.status?.phase === 'Running';
}

function workerState(pod: V1Pod): { exitCode: number; signal?: number; reason?: string } | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === 'worker')?.state?.terminated;
}

const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

/** Container runtimes report a signal death as exit code 128 + the signal's number. */
function exitOf(code: number, signal: number | undefined): { code: number | null; signal: string | null } {
  const n = signal !== undefined && signal > 0 ? signal : code > 128 ? code - 128 : 0;
  const name = SIGNALS.get(n);
  return name !== undefined ? { code: null, signal: name } : { code, signal: null };
}
