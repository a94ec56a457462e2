import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import pLimit, { type LimitFunction } from 'p-limit';
import { ERRORS, type ErrorCode, TorpedoError } from '../errors.ts';
import { probedJob, type ProbedJob } from '../job/probe-job.ts';
import type { CodeCheck, CodeChecker } from '../manager/code-checker.ts';
import type { JobLimits } from '../manager/config.ts';
import { codeCheckDeadlineSeconds, codeCheckJob, type CodeCheckPlan } from './code-check-job.ts';
import { clusterError, describeError, isNotFound, kubeCall, type KubeClients } from './kube-client.ts';
import type { KubeSettings } from './kube-settings.ts';
import { jobObjectNames, jobSelector } from './names.ts';
import { compileNetworkPolicy } from './network-policies.ts';
import { ownerReference } from './objects.ts';
import { startProblem } from './pod-start-problems.ts';

/** How often the compile Job is looked at; its pods, every few looks (and when it failed). */
const POLL_MS = 250;
const PODS_EVERY = 4;
/** A pod that cannot start (its image, no node) is given up on after this long, not at the deadline. */
const STUCK_MS = 10_000;
/** Beyond the Job's own deadline, how long the Job controller may take to say it ended. */
const LATE_MS = 15_000;
/** The longest answer read: a type error's message, with its locations. */
const MAX_ANSWER_BYTES = 256 * 1024;
const LOG_LINES = 5;

/**
 * The submit-time checks on Kubernetes, where the manager's pod (non-root, no capabilities) cannot
 * confine user code: each submission is bundled, type-checked and loaded once in a compile pod of
 * its own — a Job of one pod (code-check-job.ts) with no network, no API token, only the
 * submission's directory, and the manager's compile time limit — which writes its answer beside the
 * bundle. The manager polls the Job, reads the answer, turns it into the errors LocalCodeChecker
 * throws (a 400 TORPEDO_ERR_JOB_SYNTAX with file:line, TORPEDO_ERR_JOB_SHAPE …), and deletes the
 * Job. A pod that cannot start, or a Job that fails, is a TORPEDO_ERR_CLUSTER (503); a compile
 * that runs out of time or memory, TORPEDO_ERR_USER_CODE.
 *
 * At most `maxCompiles` compile pods at once per manager replica, `maxQueuedCompiles` waiting;
 * beyond, 429. Needs, in the namespace: jobs create/get/delete, pods list, pods/log get,
 * networkpolicies create/delete.
 */
export class PodCodeChecker implements CodeChecker {
  readonly #settings: KubeSettings;
  readonly #clients: KubeClients;
  readonly #limits: Pick<JobLimits, 'maxCompiles' | 'maxQueuedCompiles' | 'compileTimeoutMs'>;
  readonly #log: (line: string) => void;
  readonly #limit: LimitFunction;

  constructor(o: { settings: KubeSettings; clients: KubeClients; limits: Pick<JobLimits, 'maxCompiles' | 'maxQueuedCompiles' | 'compileTimeoutMs'>; log?: (line: string) => void }) {
    this.#settings = o.settings;
    this.#clients = o.clients;
    this.#limits = o.limits;
    this.#log = o.log ?? (() => {});
    this.#limit = pLimit(o.limits.maxCompiles);
  }

  /** Called by the scheduler once per submission of code; see CodeChecker. */
  check(c: CodeCheck): Promise<ProbedJob> {
    const plan: CodeCheckPlan = {
      jobId: c.jobId,
      source: c.source,
      bundle: c.bundle,
      answer: answerFile(c.bundle),
      typecheck: c.typecheck,
      name: c.name,
      relativeTo: c.relativeTo,
      timeoutMs: this.#limits.compileTimeoutMs,
    };
    return this.#queue(plan);
  }

  /**
   * Loads a bundle compiled at submit, in a compile pod, for what it has (`setup`): for jobs
   * stored before the submit-time load was kept, so that no job's code is loaded in the manager.
   * Called by the ClusterJobRunner when it starts such a job.
   */
  probe(o: { jobId: string; bundle: string }): Promise<ProbedJob> {
    return this.#queue({ jobId: o.jobId, bundle: o.bundle, answer: answerFile(o.bundle), typecheck: false, name: 'job', relativeTo: dirname(o.bundle), timeoutMs: this.#limits.compileTimeoutMs });
  }

  #queue(plan: CodeCheckPlan): Promise<ProbedJob> {
    // Those under way and those waiting together: p-limit counts a call as pending until it starts.
    const waiting = this.#limit.activeCount + this.#limit.pendingCount;
    if (waiting >= this.#limits.maxCompiles + this.#limits.maxQueuedCompiles) {
      return Promise.reject(
        new TorpedoError('TORPEDO_ERR_RATE_LIMITED', `${waiting} submissions are being compiled or waiting to be; try again in a few seconds`, { retryAfterSeconds: 5 }),
      );
    }
    return this.#limit(() => this.#run(plan));
  }

  async #run(plan: CodeCheckPlan): Promise<ProbedJob> {
    const { batch, networking, namespace } = this.#clients;
    const name = jobObjectNames(plan.jobId).compile;
    rmSync(plan.answer, { force: true });
    const body = codeCheckJob({ settings: this.#settings, namespace, plan });
    let job: V1Job;
    try {
      job = await kubeCall(`create Job ${name}`, () => batch.createNamespacedJob({ namespace, body }));
    } catch (e) {
      throw clusterError(e);
    }
    try {
      // Until it exists, the namespace's default deny (deploy/) holds: no policy allows compile pods anything.
      const owner = ownerReference({ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata?.uid ?? '' });
      await kubeCall(`create NetworkPolicy ${name}`, () => networking.createNamespacedNetworkPolicy({ namespace, body: compileNetworkPolicy({ namespace, jobId: plan.jobId, owner }) })).catch(
        (e: unknown) => {
          throw clusterError(e);
        },
      );
      await this.#waitForEnd(plan, name);
      return readAnswer(plan.answer, `${plan.name}: checking the job`);
    } finally {
      rmSync(plan.answer, { force: true });
      await this.#cleanUp(name);
    }
  }

  /** Returns once the Job completed; throws what its failure (or a pod that cannot start) means. */
  async #waitForEnd(plan: CodeCheckPlan, name: string): Promise<void> {
    const { batch, namespace } = this.#clients;
    const seconds = codeCheckDeadlineSeconds(plan.timeoutMs);
    const started = performance.now();
    let pod: V1Pod | undefined;
    for (let look = 0; ; look++) {
      let job: V1Job;
      try {
        job = await kubeCall(`get Job ${name}`, () => batch.readNamespacedJob({ name, namespace }));
      } catch (e) {
        throw clusterError(e);
      }
      const conditions = job.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return;
      const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed !== undefined || look % PODS_EVERY === 0) pod = (await this.#pod(plan.jobId)) ?? pod;
      if (failed !== undefined) throw await this.#failure(plan, name, failed.reason ?? 'Failed', failed.message ?? '', pod);
      const problem = pod !== undefined ? startProblem(pod) : undefined;
      if (problem !== undefined && performance.now() - started > STUCK_MS) throw new TorpedoError('TORPEDO_ERR_CLUSTER', `the compile pod could not start: ${problem}`);
      if (performance.now() - started > seconds * 1000 + LATE_MS) throw new TorpedoError('TORPEDO_ERR_CLUSTER', `the compile Job ${name} did not end within ${seconds} s`);
      await sleep(POLL_MS);
    }
  }

  /** The error a failed compile Job stands for. */
  async #failure(plan: CodeCheckPlan, name: string, reason: string, message: string, pod: V1Pod | undefined): Promise<TorpedoError> {
    const terminated = pod?.status?.containerStatuses?.find((c) => c.name === 'compile')?.state?.terminated;
    const what = `${plan.name}: ${plan.source !== undefined ? 'compiling the job' : 'loading the job'}`;
    if (reason === 'DeadlineExceeded') {
      if (pod === undefined || pod.status?.phase === 'Pending') {
        const problem = pod !== undefined ? startProblem(pod) : undefined;
        return new TorpedoError('TORPEDO_ERR_CLUSTER', `the compile pod did not start in time${problem !== undefined ? `: ${problem}` : ''}`);
      }
      return new TorpedoError('TORPEDO_ERR_USER_CODE', `${what} did not finish within ${plan.timeoutMs / 1000} s`);
    }
    if (terminated?.reason === 'OOMKilled') return new TorpedoError('TORPEDO_ERR_USER_CODE', `${what} used more than its memory limit (${this.#settings.compileMemory})`);
    const exit = terminated !== undefined ? ` (exit code ${terminated.exitCode})` : '';
    const log = pod?.metadata?.name !== undefined ? await this.#logTail(pod.metadata.name) : '';
    return new TorpedoError('TORPEDO_ERR_CLUSTER', `the compile Job ${name} failed${exit}: ${reason}: ${message}${log !== '' ? `; its log ends: ${log}` : ''}`.trim());
  }

  async #pod(jobId: string): Promise<V1Pod | undefined> {
    const { core, namespace } = this.#clients;
    try {
      const pods = await kubeCall(`list pods of ${jobId}`, () => core.listNamespacedPod({ namespace, labelSelector: jobSelector(jobId, 'compile') }));
      return pods.items[0];
    } catch (e) {
      throw clusterError(e);
    }
  }

  async #logTail(pod: string): Promise<string> {
    const { core, namespace } = this.#clients;
    try {
      const log = await core.readNamespacedPodLog({ name: pod, namespace, container: 'compile', tailLines: LOG_LINES });
      return log.trim().split('\n').join(' | ');
    } catch (e) {
      return `(not readable: ${describeError(e)})`;
    }
  }

  /** Deletes the compile Job (its pod goes with it) and its NetworkPolicy; a failure is only logged, the TTL and the garbage collector remain. */
  async #cleanUp(name: string): Promise<void> {
    const { batch, networking, namespace } = this.#clients;
    const quiet = (e: unknown): void => {
      if (!isNotFound(e)) this.#log(`cleaning up after a compile: ${describeError(e)}`);
    };
    await kubeCall(`delete Job ${name}`, () => batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' })).catch(quiet);
    await kubeCall(`delete NetworkPolicy ${name}`, () => networking.deleteNamespacedNetworkPolicy({ name, namespace })).catch(quiet);
  }
}

/** Where a compile pod writes its answer: beside the bundle, in the one directory it may write. */
export function answerFile(bundle: string): string {
  return join(dirname(bundle), 'check.json');
}

/**
 * The compile pod's answer, `{ok, hasSetup, params?}` or `{ok: false, code, message}` (src/cli/
 * internal-commands.ts). It comes from a pod that ran user code: only a known code is taken from it.
 */
function readAnswer(file: string, what: string): ProbedJob {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').slice(0, MAX_ANSWER_BYTES);
  } catch {
    throw new TorpedoError('TORPEDO_ERR_CLUSTER', `${what}: the compile pod ended without writing its answer (${file})`);
  }
  let result: { ok?: unknown; code?: unknown; message?: unknown } & Record<string, unknown>;
  try {
    result = JSON.parse(text) as typeof result;
  } catch {
    throw new TorpedoError('TORPEDO_ERR_USER_CODE', `${what}: the compile pod wrote something other than its answer: ${text.slice(0, 300)}`);
  }
  if (result.ok === true) return probedJob(result, what);
  const code: ErrorCode = typeof result.code === 'string' && result.code in ERRORS ? (result.code as ErrorCode) : 'TORPEDO_ERR_USER_CODE';
  throw new TorpedoError(code, typeof result.message === 'string' ? result.message : `${what} failed`);
}
