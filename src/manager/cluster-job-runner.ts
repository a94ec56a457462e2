import { and, count, eq } from 'drizzle-orm';
import { TorpedoError, isTorpedoError } from '../errors.ts';
import type { ProbedJob } from '../job/probe-job.ts';
import { prepareJob } from '../job/run-local-job.ts';
import type { ClusterJobs, MasterStatus, Observation } from '../kubernetes/cluster-jobs.ts';
import type { KubeSettings } from '../kubernetes/kube-settings.ts';
import type { PodCodeChecker } from '../kubernetes/pod-code-checker.ts';
import type { JobSnapshot, Progress } from '../master/master.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import type { CodeCheck, CodeChecker } from './code-checker.ts';
import type { JobLimits } from './config.ts';
import type { Db } from './database/database.ts';
import { jobs } from './database/schema.ts';
import { cancelled, progressOf, type JobProgress, type JobRow } from './job-records.ts';
import type { JobRunner, JobRunnerHost } from './job-runner.ts';

/** On a cluster: how often the running jobs are read from the database, each one's status file, and its master Job's state. */
const ROWS_EVERY_MS = 1000;
const STATUS_EVERY_MS = 250;
const JOB_STATE_EVERY_MS = 2000;
/** How often a running job's progress is saved to its row. */
const SAVE_EVERY_MS = 2000;
/** A running job whose master Job has been missing this long is started again (resumed). */
const MISSING_GRACE_MS = 30_000;

/** A job running on the cluster, as this replica follows it (every replica follows every running job). */
interface Followed {
  status: MasterStatus | undefined;
  /** The last snapshot seen (the final status may have none). */
  snapshot: JobSnapshot | undefined;
  /** When its Job's state was last read (performance.now(): a wall-clock step must not stop or hurry the checks). */
  lastJobCheck: number;
  lastSaved: string;
  /** Since when its master Job has been missing (performance.now()), for the grace before starting it again. */
  missingSince: number | undefined;
  busy: boolean;
}

/**
 * The JobRunner of TORPEDO_LAUNCHER=kubernetes: a claimed job's
 * directory is prepared on the shared volume and started as a master Job (src/kubernetes/
 * cluster-jobs.ts); every replica follows every running job, through the master's status file
 * and its Job, so that any of them serves its state and live events, records its end (once: the
 * row is updated only while `running`), or cancels it. Stopping a manager leaves its jobs running.
 *
 * The scheduler keeps the queue and the rows: it calls `run` for each job it claims, `start` and
 * `stop` once; the runner reports progress and ends through its host. Submitted code is checked
 * in compile pods (src/kubernetes/pod-code-checker.ts), since the manager's own pod cannot
 * confine it; the cap on running jobs counts the whole cluster's.
 */
export class ClusterJobRunner implements JobRunner {
  /** The compile pods: the scheduler's submissions and this runner's loads of older jobs share one cap. */
  readonly codeChecker: ClusterCodeChecker;
  readonly #settings: KubeSettings;
  readonly #db: Db;
  readonly #log: (line: string) => void;
  readonly #host: JobRunnerHost;
  #cluster: Promise<ClusterJobs> | undefined;
  readonly #followed = new Map<string, Followed>();
  /** Jobs this replica is preparing and creating. */
  readonly #starting = new Map<string, Promise<void>>();
  #ticker: NodeJS.Timeout | undefined;
  #lastRows = -Infinity;
  #lastSave = -Infinity;

  constructor(o: { settings: KubeSettings; limits: JobLimits; db: Db; host: JobRunnerHost }) {
    this.#settings = o.settings;
    this.#db = o.db;
    this.#log = (line) => o.host.log(line);
    this.#host = o.host;
    this.codeChecker = new ClusterCodeChecker(o.settings, o.limits, this.#log);
  }

  confinementNote(): string {
    return "users' code runs in the job's pods (docs/kubernetes-launcher.md)";
  }

  /** The job's pods confine its code: nothing to refuse here. */
  checkConfinable(): void {}

  /**
   * Prepares a claimed job's directory on the shared volume (splits planned, inputs and output
   * checked: the same checks as a local run) and creates its master Job; a job that cannot start
   * ends failed. No job's code is loaded here: what loading a module showed comes from its
   * submission's compile pod, or, for a job stored before that was kept, from a compile pod now
   * (streaming jobs have nothing to load; built-in examples are torpedo's own). Called by the
   * scheduler for each job it claims, and here again (resuming from the committed tasks) for a
   * running job whose master Job went missing. Returns at once; a second call while the first is
   * under way does nothing.
   */
  run(row: JobRow): void {
    if (this.#starting.has(row.id)) return;
    const started = (async () => {
      try {
        const options = this.#host.runOptions(row);
        const probed = options.probed ?? (row.job === 'code' ? await this.#probe(row.id, options.job) : undefined);
        // The cluster's objects are named and labelled after the manager's job id.
        // The job's pods are its sandboxes: nothing is confined (or chowned) here for local workers.
        const prepared = await prepareJob({ ...options, ...(probed !== undefined ? { probed } : {}), jobId: row.id, confineStreaming: false, confinement: { identity: 'caller' } });
        if ('complete' in prepared) {
          await this.#finish(row.id, { status: 'succeeded', summary: prepared.complete }, undefined);
          return;
        }
        const cluster = await this.#clusterJobs();
        await cluster.start({ jobId: row.id, jobDir: prepared.layout.workDir, statusFile: this.#host.statusFile(row.id) });
        // Cancelled (by any replica) while we were creating it: take it back.
        const now = (await this.#db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, row.id)))[0];
        if (now?.status !== 'running') await cluster.cancel(row.id);
        this.#log(`job ${row.id} started on the cluster (namespace ${cluster.namespace})`);
      } catch (e) {
        const error: ErrorReport = isTorpedoError(e) ? { code: e.code, message: e.message } : { code: 'TORPEDO_ERR_INTERNAL', message: (e as Error).message };
        await this.#finish(row.id, { status: 'failed', error }, undefined);
      }
    })()
      .catch((e: unknown) => this.#log(`job ${row.id}: starting it failed, and so did saving that (${(e as Error).message}); it is looked at again while it runs`))
      .finally(() => this.#starting.delete(row.id));
    this.#starting.set(row.id, started);
  }

  /** Starts following the cluster's running jobs (those that went on while no manager ran, too). Called once, at start. */
  start(): Promise<void> {
    this.#ticker = setInterval(() => this.#tick(), STATUS_EVERY_MS);
    return Promise.resolve();
  }

  /** Jobs running on the whole cluster, as the database says: the cap is the cluster's. */
  async runningCount(): Promise<number> {
    const [row] = await this.#db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running'));
    return Number(row?.n ?? 0);
  }

  /** Stops following, and waits for the starts under way; the jobs go on running. Called once, at shutdown. */
  async stop(): Promise<void> {
    clearInterval(this.#ticker);
    await Promise.all(this.#starting.values());
  }

  /** The last snapshot of a running job, with every task and attempt, or undefined. */
  live(id: string): JobSnapshot | undefined {
    return this.#followed.get(id)?.snapshot;
  }

  /** The last progress of a running job, or undefined. */
  progress(id: string): Progress | undefined {
    return this.#followed.get(id)?.status?.progress;
  }

  /** Cancels a job running on the cluster, as any replica may: its row first, then its objects. */
  async cancel(id: string, reason: string): Promise<void> {
    const snapshot = this.live(id);
    const done = await this.#db
      .update(jobs)
      .set({
        status: 'cancelled',
        phase: 'cancelled',
        finishedAt: new Date(),
        error: cancelled(reason),
        ...(snapshot !== undefined ? { progress: progressOf(snapshot), tasks: snapshot.tasks } : {}),
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
      .returning({ id: jobs.id });
    if (done.length === 0) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${id} has already ended`);
    // A start in progress here finishes first (it then sees the row cancelled and deletes its Job too).
    await this.#starting.get(id);
    await (await this.#clusterJobs()).cancel(id);
    this.#followed.delete(id);
    this.#log(`job ${id} cancelled: ${reason}`);
    this.#host.ended(id);
  }

  /** Loads the bundle of a job stored without what loading it showed, in a compile pod. */
  async #probe(id: string, bundle: string): Promise<ProbedJob> {
    this.#log(`job ${id} was submitted before its module's load was kept: loading it in a compile pod`);
    return this.codeChecker.probe({ jobId: id, bundle });
  }

  #clusterJobs(): Promise<ClusterJobs> {
    const settings = this.#settings;
    // Imported on first use: the Kubernetes client takes half a second to load.
    this.#cluster ??= Promise.all([import('../kubernetes/cluster-jobs.ts'), import('../kubernetes/kube-client.ts')]).then(
      ([{ ClusterJobs }, { kubeClients }]) => new ClusterJobs({ settings, clients: kubeClients(settings), log: this.#log }),
    );
    return this.#cluster;
  }

  /** Every 250 ms: follows the running jobs, sends their progress, records their end. */
  #tick(): void {
    const now = performance.now();
    if (now - this.#lastRows >= ROWS_EVERY_MS) {
      this.#lastRows = now;
      void this.#refreshFollowed().catch((e: unknown) => this.#log(`reading running jobs failed: ${String(e)}`));
    }
    const save = now - this.#lastSave >= SAVE_EVERY_MS;
    if (save) this.#lastSave = now;
    for (const [id, f] of this.#followed) {
      if (f.busy) continue;
      f.busy = true;
      const checkJob = now - f.lastJobCheck >= JOB_STATE_EVERY_MS;
      if (checkJob) f.lastJobCheck = now;
      void this.#clusterJobs()
        .then((cluster) => cluster.observe(id, this.#host.statusFile(id), checkJob))
        .then((o) => this.#observed(id, f, o, save))
        .catch((e: unknown) => this.#log(`following job ${id} failed: ${(e as Error).message}`))
        .finally(() => (f.busy = false));
    }
  }

  /** Follows the jobs the database says are running; stops following (and ends the events of) the rest. */
  async #refreshFollowed(): Promise<void> {
    const rows = await this.#db.select({ id: jobs.id }).from(jobs).where(eq(jobs.status, 'running'));
    const running = new Set(rows.map((r) => r.id));
    for (const id of running) {
      if (!this.#followed.has(id)) {
        this.#followed.set(id, { status: undefined, snapshot: undefined, lastJobCheck: -Infinity, lastSaved: '', missingSince: undefined, busy: false });
      }
    }
    for (const id of [...this.#followed.keys()]) {
      if (!running.has(id)) {
        // Another replica recorded its end.
        this.#followed.delete(id);
        this.#host.ended(id);
      }
    }
  }

  async #observed(id: string, f: Followed, o: Observation, save: boolean): Promise<void> {
    if (!this.#followed.has(id)) return;
    if (o.status !== undefined) {
      f.status = o.status;
      if (o.status.snapshot !== undefined) f.snapshot = o.status.snapshot;
    }
    if (o.end !== undefined) {
      await this.#finish(id, o.end, f.snapshot);
      return;
    }
    const progress = f.status?.progress;
    if (progress !== undefined) {
      const text = JSON.stringify(progress);
      const changed = f.lastSaved !== text;
      if (save && changed) f.lastSaved = text;
      await this.#host.progress(id, progress, save && changed);
    }
    if (o.master?.state === 'missing' && !this.#starting.has(id)) {
      // Never created (the replica that claimed it stopped first), or deleted by hand: start it
      // again, resuming from its committed tasks.
      f.missingSince ??= performance.now();
      if (performance.now() - f.missingSince >= MISSING_GRACE_MS) {
        f.missingSince = undefined;
        const row = (await this.#db.select().from(jobs).where(eq(jobs.id, id)))[0];
        if (row?.status === 'running') {
          this.#log(`job ${id} has no master Job on the cluster: starting it again`);
          this.run(row);
        }
      }
    } else if (o.master !== undefined) {
      f.missingSince = undefined;
    }
  }

  /**
   * Records a job's end through the host: only the replica that saves it deletes what may be left
   * of its workers; every replica stops following it and tells its listeners.
   */
  async #finish(id: string, end: NonNullable<Observation['end']>, snapshot: JobSnapshot | undefined): Promise<void> {
    const summary = end.summary;
    // A succeeded job's progress is whole, whatever the last snapshot (written every second) said.
    const progress: JobProgress | undefined =
      end.status === 'succeeded' && summary !== undefined
        ? {
            phase: 'succeeded',
            phases: { setup: whole(summary.phases.setup.tasks), map: whole(summary.phases.map.tasks), reduce: whole(summary.phases.reduce.tasks) },
            mapBytes: summary.inputBytes,
            inputBytes: summary.inputBytes,
          }
        : undefined;
    const saved = await this.#host.recordEnd(id, {
      status: end.status,
      ...(end.status === 'failed' && end.error !== undefined ? { error: end.error } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...(progress !== undefined ? { progress } : {}),
      ...(summary !== undefined ? { summary } : {}),
    });
    if (saved) {
      // The master deletes its workers Job when it ends; this is for a master that died for good.
      await (await this.#clusterJobs()).deleteWorkers(id).catch((e: unknown) => this.#log(`cleaning up job ${id}: ${(e as Error).message}`));
    }
    this.#followed.delete(id);
    this.#host.ended(id);
  }
}

function whole(tasks: number): { done: number; total: number } {
  return { done: tasks, total: tasks };
}

/** PodCodeChecker, imported on first use: the Kubernetes client takes half a second to load. */
class ClusterCodeChecker implements CodeChecker {
  readonly #settings: KubeSettings;
  readonly #limits: JobLimits;
  readonly #log: (line: string) => void;
  #checker: Promise<PodCodeChecker> | undefined;

  constructor(settings: KubeSettings, limits: JobLimits, log: (line: string) => void) {
    this.#settings = settings;
    this.#limits = limits;
    this.#log = log;
  }

  async check(c: CodeCheck): Promise<ProbedJob> {
    return (await this.#get()).check(c);
  }

  async probe(o: { jobId: string; bundle: string }): Promise<ProbedJob> {
    return (await this.#get()).probe(o);
  }

  #get(): Promise<PodCodeChecker> {
    const settings = this.#settings;
    this.#checker ??= Promise.all([import('../kubernetes/pod-code-checker.ts'), import('../kubernetes/kube-client.ts')]).then(
      ([{ PodCodeChecker }, { kubeClients }]) => new PodCodeChecker({ settings, clients: kubeClients(settings), limits: this.#limits, log: this.#log }),
    );
    return this.#checker;
  }
}
