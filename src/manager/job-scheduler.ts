import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import { EXAMPLES } from '../../examples/index.ts';
import { TorpedoError, isTorpedoError } from '../errors.ts';
import { compileJobInChild, probeJob } from '../job/probe-job.ts';
import { prepareJob, runLocalJob, type RunJobOptions } from '../job/run-local-job.ts';
import type { ClusterJobs, MasterStatus, Observation } from '../kubernetes/cluster-jobs.ts';
import type { JobSnapshot, Master, Progress } from '../master/master.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import type { ManagerConfig } from './config.ts';
import type { Db } from './database/database.ts';
import { jobs, type JobStatus } from './database/schema.ts';
import type { DatasetStore } from './dataset-store.ts';
import type { ManagerMetrics } from './metrics.ts';
import { checkDatasetName } from './names.ts';
import type { SubmitRequest } from './rest-types.ts';

export type JobRow = typeof jobs.$inferSelect;

/** What `POST /jobs` accepts (already checked against its JSON Schema). */
export type { SubmitRequest };

/** The stored spec of a job: what it was submitted with, defaults filled in. */
export interface JobSpec {
  readonly inputs: readonly string[];
  readonly reducers: number;
  readonly workers: number;
  readonly splitSize?: number;
  readonly maps?: number;
  readonly params: Readonly<Record<string, string>>;
  readonly language?: 'ts' | 'js';
  readonly streaming?: { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: readonly string[] };
}

/** Progress mirrored into the database while a job runs (and kept after). */
export type JobProgress = Pick<Progress, 'phase' | 'phases' | 'mapBytes' | 'inputBytes'>;

export type JobEvent = { readonly type: 'progress'; readonly progress: JobProgress & { readonly status: JobStatus } } | { readonly type: 'end' };

interface Running {
  master: Master | undefined;
  cancelReason: string | undefined;
  /** Settles when the job's run has ended and its row is saved. */
  done: Promise<void>;
}

const STOPPING: ErrorReport = { code: 'TORPEDO_ERR_CANCELLED', message: 'the manager is stopping; the job resumes when it starts again' };

const PROGRESS_EVERY_MS = 250;
const PERSIST_EVERY_MS = 2000;
/** On a cluster: how often the running jobs are read from the database, and each master Job's state asked for. */
const ROWS_EVERY_MS = 1000;
const JOB_STATE_EVERY_MS = 2000;
/** On a cluster: a running job whose master Job has been missing this long is started again (resumed). */
const MISSING_GRACE_MS = 30_000;

/** A job running on the cluster, as this replica follows it (every replica follows every running job). */
interface Followed {
  readonly ownerId: number;
  status: MasterStatus | undefined;
  /** The last snapshot seen (the final status may have none). */
  snapshot: JobSnapshot | undefined;
  lastJobCheck: number;
  lastPersisted: string;
  missingSince: number | undefined;
  busy: boolean;
}

/**
 * Runs submitted jobs on the engine with the local launcher: the master in this process, workers
 * as child processes. At most `maxRunningJobs` run at once; the rest wait in the `queued` state,
 * oldest first. The database row of each job is its durable state: a job that was running when
 * the manager stopped is resumed from its committed tasks at the next `start()`.
 *
 * With TORPEDO_LAUNCHER=kubernetes, a job runs as a master Job on the cluster instead (see
 * src/kubernetes/cluster-jobs.ts): the replica that claims it prepares its directory on the shared
 * volume and creates the Job; every replica follows every running job through the master's status
 * file and its Job, so that any of them serves its state and live events, records its end (once:
 * the row is updated only while `running`), or cancels it. The cap counts the whole cluster's
 * running jobs, and stopping a manager leaves its jobs running.
 */
export class JobScheduler {
  readonly #config: ManagerConfig;
  readonly #db: Db;
  readonly #datasets: DatasetStore;
  readonly #metrics: ManagerMetrics;
  readonly #log: (line: string) => void;
  readonly #running = new Map<string, Running>();
  readonly #listeners = new Map<string, Set<(e: JobEvent) => void>>();
  readonly #lastSent = new Map<string, string>();
  #ticker: NodeJS.Timeout | undefined;
  #lastPersist = 0;
  #kicking = false;
  #kickAgain = false;
  #stopping = false;
  #cluster: Promise<ClusterJobs> | undefined;
  readonly #followed = new Map<string, Followed>();
  /** Cluster jobs this replica is preparing and creating. */
  readonly #starting = new Map<string, Promise<void>>();
  #lastRows = 0;

  constructor(o: { config: ManagerConfig; db: Db; datasets: DatasetStore; metrics: ManagerMetrics; log: (line: string) => void }) {
    this.#config = o.config;
    this.#db = o.db;
    this.#datasets = o.datasets;
    this.#metrics = o.metrics;
    this.#log = o.log;
  }

  jobDir(id: string): string {
    return join(this.#config.home, 'jobs', id);
  }

  outputDir(id: string): string {
    return join(this.jobDir(id), 'output');
  }

  /** Where a job's master writes its state on a cluster (outside `output/_temporary`, which the commit removes). */
  statusFile(id: string): string {
    return join(this.jobDir(id), 'master-status.json');
  }

  /** Part files of a succeeded job, in order. */
  outputParts(id: string): string[] {
    const dir = this.outputDir(id);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => /^part-r-\d+$/.test(f))
      .sort();
  }

  /**
   * Checks and stores a job: inputs must be the owner's datasets; submitted code is bundled and
   * type-checked in a child process and loaded once in a sandboxed one, so a syntax or type error
   * (with file:line) or a module without map/reduce is refused here with 400, not at run time.
   */
  async submit(ownerId: number, req: SubmitRequest): Promise<string> {
    const kinds = [req.example, req.code, req.mapper].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'give exactly one of `example` (a built-in job), `code` (a job module as text) and `mapper` with `reducer` (a streaming job)');
    }
    if ((req.mapper === undefined) !== (req.reducer === undefined)) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'a streaming job needs both `mapper` and `reducer`');
    if (req.mapper === undefined && (req.combiner !== undefined || req.files !== undefined)) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', '`combiner` and `files` belong to streaming jobs (`mapper`, `reducer`)');
    }
    const fileNames = Object.keys(req.files ?? {});
    for (const name of fileNames) checkDatasetName(name);
    if (req.example !== undefined && EXAMPLES[req.example] === undefined) {
      throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `no built-in example ${JSON.stringify(req.example)}; there are ${Object.keys(EXAMPLES).join(', ')}`);
    }
    if (req.splitSize !== undefined && req.maps !== undefined) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'give `splitSize` or `maps`, not both');
    const workers = req.workers ?? 2;
    if (workers > this.#config.maxWorkersPerJob) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `workers is ${workers}; this manager allows at most ${this.#config.maxWorkersPerJob} per job`);
    }
    const inputs = [...new Set(req.inputs)];
    for (const name of inputs) {
      if ((await this.#datasets.find(ownerId, name)) === undefined) {
        throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `you have no dataset ${JSON.stringify(name)} (GET /datasets lists yours)`);
      }
    }
    const id = `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const dir = this.jobDir(id);
    await mkdir(dir, { recursive: true });
    try {
      if (req.code !== undefined) {
        const language = req.language ?? 'ts';
        const source = join(dir, language === 'ts' ? 'job.ts' : 'job.mjs');
        await writeFile(source, req.code);
        const bundle = join(dir, 'bundle', 'job.mjs');
        await mkdir(join(dir, 'bundle'));
        await compileJobInChild(source, bundle, { typecheck: language === 'ts', name: language === 'ts' ? 'job.ts' : 'job.mjs', relativeTo: dir });
        await probeJob(bundle, 'job', process.env['TORPEDO_NO_BUNDLE'] !== '1');
      }
      if (req.files !== undefined) {
        await mkdir(join(dir, 'files'));
        for (const [name, text] of Object.entries(req.files)) await writeFile(join(dir, 'files', name), text, { mode: 0o644 });
      }
      const spec: JobSpec = {
        inputs,
        reducers: req.reducers ?? 2,
        workers,
        ...(req.splitSize !== undefined ? { splitSize: req.splitSize } : {}),
        ...(req.maps !== undefined ? { maps: req.maps } : {}),
        params: req.params ?? {},
        ...(req.code !== undefined ? { language: req.language ?? 'ts' } : {}),
        ...(req.mapper !== undefined && req.reducer !== undefined
          ? { streaming: { mapper: req.mapper, reducer: req.reducer, ...(req.combiner !== undefined ? { combiner: req.combiner } : {}), files: fileNames } }
          : {}),
      };
      await this.#db.insert(jobs).values({ id, ownerId, job: req.example ?? (req.code !== undefined ? 'code' : 'streaming'), spec, status: 'queued' });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    this.#kick();
    return id;
  }

  /** Resumes the jobs that were running when the manager last stopped, then starts queued ones. */
  async start(): Promise<void> {
    if (this.#onCluster) {
      // Jobs running on the cluster went on without us: the ticker follows them again.
      this.#ticker = setInterval(() => this.#followTick(), PROGRESS_EVERY_MS);
      this.#kick();
      return;
    }
    const interrupted = await this.#db.select().from(jobs).where(eq(jobs.status, 'running')).orderBy(asc(jobs.createdAt));
    for (const row of interrupted) {
      this.#log(`resuming job ${row.id}, interrupted when the manager stopped`);
      this.#launch(row);
    }
    this.#ticker = setInterval(() => this.#tick(), PROGRESS_EVERY_MS);
    this.#kick();
  }

  /**
   * Stops every running job's workers without ending the jobs: their rows stay `running`, and the
   * next start resumes them from their committed tasks. Called once, at shutdown.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#ticker);
    if (this.#onCluster) {
      await Promise.all(this.#starting.values());
      return;
    }
    for (const run of this.#running.values()) run.master?.abort(STOPPING);
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Live state of a job running here, with every task and attempt, or undefined. */
  live(id: string): JobSnapshot | undefined {
    if (this.#onCluster) return this.#followed.get(id)?.snapshot;
    return this.#running.get(id)?.master?.snapshot();
  }

  /** Live progress of a job running here (cheaper than `live`: no task table), or undefined. */
  liveProgress(id: string): JobProgress | undefined {
    const p = this.#onCluster ? this.#followed.get(id)?.status?.progress : this.#running.get(id)?.master?.progress();
    return p === undefined ? undefined : progressOf(p);
  }

  /** Calls `listener` on every progress change of job `id` and once at its end; returns an unsubscribe. */
  subscribe(id: string, listener: (e: JobEvent) => void): () => void {
    let set = this.#listeners.get(id);
    if (set === undefined) this.#listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(id);
    };
  }

  /** Cancels a queued or running job; 409 if it has ended. Resolves once its workers are stopped. */
  async cancel(id: string, reason: string): Promise<void> {
    const queued = await this.#db
      .update(jobs)
      .set({ status: 'cancelled', finishedAt: new Date(), error: cancelled(reason) })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'queued')))
      .returning({ id: jobs.id });
    if (queued.length > 0) {
      this.#emit(id, { type: 'end' });
      return;
    }
    if (this.#onCluster) return this.#cancelOnCluster(id, reason);
    const run = this.#running.get(id);
    if (run === undefined) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${id} has already ended`);
    run.cancelReason = reason;
    run.master?.abort(cancelled(reason));
    await run.done;
  }

  async cancelAllOf(ownerId: number, reason: string): Promise<void> {
    const active = await this.#db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), inArray(jobs.status, ['queued', 'running'])));
    await Promise.all(active.map((j) => this.cancel(j.id, reason).catch(() => {})));
  }

  async removeFilesOf(ownerId: number): Promise<void> {
    const all = await this.#db.select({ id: jobs.id }).from(jobs).where(eq(jobs.ownerId, ownerId));
    await Promise.all(all.map((j) => rm(this.jobDir(j.id), { recursive: true, force: true })));
  }

  /** Jobs not yet ended that read the owner's dataset `name`. */
  async activeJobsReading(ownerId: number, name: string): Promise<string[]> {
    const rows = await this.#db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), inArray(jobs.status, ['queued', 'running']), sql`${jobs.spec}->'inputs' ? ${name}`));
    return rows.map((r) => r.id);
  }

  /** Starts queued jobs, oldest first, while fewer than the cap run. */
  #kick(): void {
    if (this.#kicking) {
      this.#kickAgain = true;
      return;
    }
    this.#kicking = true;
    void (async () => {
      try {
        do {
          this.#kickAgain = false;
          while (!this.#stopping && (await this.#runningCount()) < this.#config.maxRunningJobs) {
            const next = (await this.#db.select().from(jobs).where(eq(jobs.status, 'queued')).orderBy(asc(jobs.createdAt)).limit(1))[0];
            if (next === undefined) break;
            // Claim it atomically: another kick (or replica) may have taken it meanwhile.
            const claimed = await this.#db
              .update(jobs)
              .set({ status: 'running', startedAt: new Date(), phase: 'starting' })
              .where(and(eq(jobs.id, next.id), eq(jobs.status, 'queued')))
              .returning();
            if (claimed[0] !== undefined && this.#onCluster) this.#startOnCluster(claimed[0]);
            else if (claimed[0] !== undefined) this.#launch(claimed[0]);
          }
        } while (this.#kickAgain && !this.#stopping);
      } catch (e) {
        this.#log(`scheduling failed: ${(e as Error).stack ?? String(e)}`);
      } finally {
        this.#kicking = false;
      }
    })();
  }

  #launch(row: JobRow): void {
    const run: Running = { master: undefined, cancelReason: undefined, done: Promise.resolve() };
    run.done = this.#execute(row, run).finally(() => {
      this.#running.delete(row.id);
      this.#kick();
    });
    this.#running.set(row.id, run);
  }

  /** How the engine runs a job of the API: its files in the manager's storage, fixed engine settings. */
  #runOptions(row: JobRow): RunJobOptions {
    const spec = row.spec as JobSpec;
    return {
      job: row.job === 'code' ? join(this.jobDir(row.id), 'bundle', 'job.mjs') : row.job,
      precompiled: row.job === 'code',
      ...(spec.streaming !== undefined
        ? { streaming: { ...spec.streaming, files: spec.streaming.files.map((f) => join(this.jobDir(row.id), 'files', f)) } }
        : {}),
      inputs: spec.inputs.map((name) => this.#datasets.pathOf(row.ownerId, name)),
      output: this.outputDir(row.id),
      reducers: spec.reducers,
      ...(spec.splitSize !== undefined ? { splitSize: spec.splitSize } : {}),
      ...(spec.maps !== undefined ? { maps: spec.maps } : {}),
      workers: spec.workers,
      memoryBytes: 256e6,
      params: spec.params,
      force: true,
      resume: true,
      typecheck: false,
      maxAttempts: 3,
      heartbeatMs: 1000,
      leaseTimeoutMs: 30_000,
    };
  }

  async #execute(row: JobRow, run: Running): Promise<void> {
    let summary: JobSummary | undefined;
    let error: ErrorReport | undefined;
    try {
      summary = await runLocalJob({
        ...this.#runOptions(row),
        onStart: (master) => {
          run.master = master;
          if (run.cancelReason !== undefined) master.abort(cancelled(run.cancelReason));
          if (this.#stopping) master.abort(STOPPING);
        },
      });
      error = summary.error;
    } catch (e) {
      error = isTorpedoError(e) ? { code: e.code, message: e.message } : { code: 'TORPEDO_ERR_INTERNAL', message: (e as Error).message };
    }
    if (this.#stopping && run.cancelReason === undefined) return; // stays `running`: resumed at the next start
    const snapshot = run.master?.snapshot();
    const status: JobStatus = run.cancelReason !== undefined ? 'cancelled' : summary?.status === 'succeeded' ? 'succeeded' : 'failed';
    for (const t of snapshot?.tasks ?? []) for (const a of t.attempts) this.#metrics.tasks.inc({ kind: t.kind, outcome: a.state });
    await this.#db
      .update(jobs)
      .set({
        status,
        phase: status,
        finishedAt: new Date(),
        ...(snapshot !== undefined ? { progress: progressOf(snapshot), tasks: snapshot.tasks } : {}),
        ...(summary !== undefined ? { counters: { counters: summary.counters, userCounters: summary.userCounters, wallMs: summary.wallMs } } : {}),
        error: status === 'cancelled' ? cancelled(run.cancelReason ?? '') : status === 'failed' ? (error ?? null) : null,
      })
      .where(eq(jobs.id, row.id));
    this.#log(`job ${row.id} ${status}${error !== undefined && status === 'failed' ? `: ${error.code}: ${error.message}` : ''}`);
    this.#emit(row.id, { type: 'end' });
  }

  /** Sends progress to listeners when it changed; saves it to the database every few seconds. */
  #tick(): void {
    const persist = Date.now() - this.#lastPersist >= PERSIST_EVERY_MS;
    if (persist) this.#lastPersist = Date.now();
    for (const [id, run] of this.#running) {
      if (run.master === undefined) continue;
      const progress = progressOf(run.master.progress());
      const text = JSON.stringify(progress);
      if (this.#lastSent.get(id) !== text && this.#listeners.has(id)) {
        this.#lastSent.set(id, text);
        this.#emit(id, { type: 'progress', progress: { status: 'running', ...progress } });
      }
      if (persist) {
        this.#db
          .update(jobs)
          .set({ progress, phase: progress.phase })
          .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
          .catch((e: unknown) => this.#log(`saving progress of ${id} failed: ${String(e)}`));
      }
    }
  }

  // ── on a cluster (TORPEDO_LAUNCHER=kubernetes) ───────────────────────────────────────────────

  get #onCluster(): boolean {
    return this.#config.launcher === 'kubernetes';
  }

  #clusterJobs(): Promise<ClusterJobs> {
    const settings = this.#config.kubernetes;
    if (settings === undefined) throw new Error('no Kubernetes settings');
    // Imported on first use: the Kubernetes client takes half a second to load.
    this.#cluster ??= Promise.all([import('../kubernetes/cluster-jobs.ts'), import('../kubernetes/kube-client.ts')]).then(
      ([{ ClusterJobs }, { kubeClients }]) => new ClusterJobs({ settings, clients: kubeClients(settings), log: this.#log }),
    );
    return this.#cluster;
  }

  /** Jobs running anywhere: on a cluster the cap is the cluster's, here the process's. */
  async #runningCount(): Promise<number> {
    if (!this.#onCluster) return this.#running.size;
    const [row] = await this.#db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running'));
    return Number(row?.n ?? 0);
  }

  /**
   * Prepares a claimed job's directory on the shared volume (compiled, probed, splits planned:
   * the same checks as a local run) and creates its master Job. With `resume`, for a job whose
   * master Job went missing, the directory's committed tasks are kept.
   */
  #startOnCluster(row: JobRow): void {
    if (this.#starting.has(row.id)) return;
    const started = (async () => {
      try {
        // The cluster's objects are named and labelled after the manager's job id.
        const prepared = await prepareJob({ ...this.#runOptions(row), jobId: row.id, confineStreaming: false });
        if ('complete' in prepared) {
          await this.#finishOnCluster(row.id, { status: 'succeeded', summary: prepared.complete }, undefined);
          return;
        }
        const cluster = await this.#clusterJobs();
        await cluster.start({ jobId: row.id, jobDir: prepared.layout.workDir, statusFile: this.statusFile(row.id) });
        // Cancelled (by any replica) while we were creating it: take it back.
        const now = (await this.#db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, row.id)))[0];
        if (now?.status !== 'running') await cluster.cancel(row.id);
        this.#log(`job ${row.id} started on the cluster (namespace ${cluster.namespace})`);
      } catch (e) {
        const error: ErrorReport = isTorpedoError(e) ? { code: e.code, message: e.message } : { code: 'TORPEDO_ERR_INTERNAL', message: (e as Error).message };
        await this.#finishOnCluster(row.id, { status: 'failed', error }, undefined);
      }
    })().finally(() => this.#starting.delete(row.id));
    this.#starting.set(row.id, started);
  }

  /** Every 250 ms: follows the cluster's running jobs, sends their progress, records their end. */
  #followTick(): void {
    const now = Date.now();
    if (now - this.#lastRows >= ROWS_EVERY_MS) {
      this.#lastRows = now;
      void this.#refreshFollowed().catch((e: unknown) => this.#log(`reading running jobs failed: ${String(e)}`));
    }
    const persist = now - this.#lastPersist >= PERSIST_EVERY_MS;
    if (persist) this.#lastPersist = now;
    for (const [id, f] of this.#followed) {
      if (f.busy) continue;
      f.busy = true;
      const checkJob = now - f.lastJobCheck >= JOB_STATE_EVERY_MS;
      if (checkJob) f.lastJobCheck = now;
      void this.#clusterJobs()
        .then((cluster) => cluster.observe(id, this.statusFile(id), checkJob))
        .then((o) => this.#observed(id, f, o, persist))
        .catch((e: unknown) => this.#log(`following job ${id} failed: ${(e as Error).message}`))
        .finally(() => (f.busy = false));
    }
  }

  /** Follows the jobs the database says are running; stops following (and ends the events of) the rest. */
  async #refreshFollowed(): Promise<void> {
    const rows = await this.#db.select({ id: jobs.id, ownerId: jobs.ownerId }).from(jobs).where(eq(jobs.status, 'running'));
    const running = new Set(rows.map((r) => r.id));
    for (const r of rows) {
      if (!this.#followed.has(r.id)) {
        this.#followed.set(r.id, { ownerId: r.ownerId, status: undefined, snapshot: undefined, lastJobCheck: 0, lastPersisted: '', missingSince: undefined, busy: false });
      }
    }
    let ended = false;
    for (const id of [...this.#followed.keys()]) {
      if (!running.has(id)) {
        this.#followed.delete(id);
        this.#emit(id, { type: 'end' });
        ended = true;
      }
    }
    // Another replica recorded an end: a queued job may start (here or there, whoever claims it).
    if (ended) this.#kick();
  }

  async #observed(id: string, f: Followed, o: Observation, persist: boolean): Promise<void> {
    if (!this.#followed.has(id)) return;
    if (o.status !== undefined) {
      f.status = o.status;
      if (o.status.snapshot !== undefined) f.snapshot = o.status.snapshot;
    }
    if (o.end !== undefined) {
      await this.#finishOnCluster(id, o.end, f.snapshot);
      return;
    }
    const progress = f.status?.progress !== undefined ? progressOf(f.status.progress) : undefined;
    if (progress !== undefined) {
      const text = JSON.stringify(progress);
      if (this.#lastSent.get(id) !== text && this.#listeners.has(id)) {
        this.#lastSent.set(id, text);
        this.#emit(id, { type: 'progress', progress: { status: 'running', ...progress } });
      }
      if (persist && f.lastPersisted !== text) {
        f.lastPersisted = text;
        await this.#db
          .update(jobs)
          .set({ progress, phase: progress.phase })
          .where(and(eq(jobs.id, id), eq(jobs.status, 'running')));
      }
    }
    if (o.master?.state === 'missing' && !this.#starting.has(id)) {
      // Never created (the replica that claimed it stopped first), or deleted by hand: start it
      // again, resuming from its committed tasks.
      f.missingSince ??= Date.now();
      if (Date.now() - f.missingSince >= MISSING_GRACE_MS) {
        f.missingSince = undefined;
        const row = (await this.#db.select().from(jobs).where(eq(jobs.id, id)))[0];
        if (row?.status === 'running') {
          this.#log(`job ${id} has no master Job on the cluster: starting it again`);
          this.#startOnCluster(row);
        }
      }
    } else if (o.master !== undefined) {
      f.missingSince = undefined;
    }
  }

  /**
   * Records a cluster job's end, once: only the replica whose update finds the row still
   * `running` counts it and deletes what may be left of its workers; every replica tells its
   * listeners.
   */
  async #finishOnCluster(id: string, end: NonNullable<Observation['end']>, snapshot: JobSnapshot | undefined): Promise<void> {
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
        : snapshot !== undefined
          ? progressOf(snapshot)
          : undefined;
    const done = await this.#db
      .update(jobs)
      .set({
        status: end.status,
        phase: end.status,
        finishedAt: new Date(),
        ...(progress !== undefined ? { progress } : {}),
        ...(snapshot !== undefined ? { tasks: snapshot.tasks } : {}),
        ...(summary !== undefined ? { counters: { counters: summary.counters, userCounters: summary.userCounters, wallMs: summary.wallMs } } : {}),
        error: end.status === 'failed' ? (end.error ?? null) : null,
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
      .returning({ id: jobs.id });
    if (done.length > 0) {
      for (const t of snapshot?.tasks ?? []) for (const a of t.attempts) this.#metrics.tasks.inc({ kind: t.kind, outcome: a.state });
      this.#log(`job ${id} ${end.status}${end.error !== undefined && end.status === 'failed' ? `: ${end.error.code}: ${end.error.message}` : ''}`);
      // The master deletes its workers Job when it ends; this is for a master that died for good.
      await (await this.#clusterJobs()).deleteWorkers(id).catch((e: unknown) => this.#log(`cleaning up job ${id}: ${(e as Error).message}`));
    }
    this.#followed.delete(id);
    this.#emit(id, { type: 'end' });
    this.#kick();
  }

  async #cancelOnCluster(id: string, reason: string): Promise<void> {
    const f = this.#followed.get(id);
    const done = await this.#db
      .update(jobs)
      .set({
        status: 'cancelled',
        phase: 'cancelled',
        finishedAt: new Date(),
        error: cancelled(reason),
        ...(f?.snapshot !== undefined ? { progress: progressOf(f.snapshot), tasks: f.snapshot.tasks } : {}),
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
      .returning({ id: jobs.id });
    if (done.length === 0) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${id} has already ended`);
    // A start in progress here finishes first (it then sees the row cancelled and deletes its Job too).
    await this.#starting.get(id);
    await (await this.#clusterJobs()).cancel(id);
    this.#log(`job ${id} cancelled: ${reason}`);
    this.#followed.delete(id);
    this.#emit(id, { type: 'end' });
    this.#kick();
  }

  #emit(id: string, event: JobEvent): void {
    if (event.type === 'end') this.#lastSent.delete(id);
    for (const l of this.#listeners.get(id) ?? []) l(event);
  }
}

export function progressOf(s: JobProgress): JobProgress {
  return { phase: s.phase, phases: s.phases, mapBytes: s.mapBytes, inputBytes: s.inputBytes };
}

function whole(tasks: number): { done: number; total: number } {
  return { done: tasks, total: tasks };
}

function cancelled(reason: string): ErrorReport {
  return { code: 'TORPEDO_ERR_CANCELLED', message: reason === '' ? 'the job was cancelled' : reason };
}
