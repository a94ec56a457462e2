import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, asc, count, eq, inArray, max, sql } from 'drizzle-orm';
import { EXAMPLES } from '../../examples/index.ts';
import { TorpedoError, isTorpedoError } from '../errors.ts';
import { runLocalJob, type RunJobOptions } from '../job/run-local-job.ts';
import type { WorkerConfinement } from '../launcher/worker-sandbox.ts';
import type { JobSnapshot, Master, Progress } from '../master/master.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import { jobIdentity, sandboxSupport, SlotAllocator } from '../sandbox/index.ts';
import { ClusterRunner } from './cluster-runner.ts';
import { LocalCodeChecker, type CodeChecker } from './code-checker.ts';
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
  /** A module's `setup`, as loading it at submit showed (absent in rows from before it was kept). */
  readonly hasSetup?: boolean;
  readonly streaming?: { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: readonly string[] };
}

/** Progress mirrored into the database while a job runs (and kept after). */
export type JobProgress = Pick<Progress, 'phase' | 'phases' | 'mapBytes' | 'inputBytes'>;

export type JobEvent = { readonly type: 'progress'; readonly progress: JobProgress & { readonly status: JobStatus } } | { readonly type: 'end' };

/** A job's end, as its row keeps it, whichever way it ran. */
export interface JobEnd {
  readonly status: 'succeeded' | 'failed' | 'cancelled';
  readonly error?: ErrorReport;
  /** The master's last snapshot: the row's task table, and its progress unless `progress` is given. */
  readonly snapshot?: JobSnapshot;
  readonly progress?: JobProgress;
  readonly summary?: JobSummary;
}

interface Running {
  master: Master | undefined;
  /** The sandbox slot (uid) of its workers, while it runs here. */
  slot: number | undefined;
  cancelReason: string | undefined;
  /** Settles when the job's run has ended and its row is saved. */
  done: Promise<void>;
}

const STOPPING: ErrorReport = { code: 'TORPEDO_ERR_CANCELLED', message: 'the manager is stopping; the job resumes when it starts again' };

const PROGRESS_EVERY_MS = 250;
const PERSIST_EVERY_MS = 2000;

/**
 * Runs submitted jobs on the engine with the local launcher: the master in this process, workers
 * as child processes. At most `maxRunningJobs` run at once; the rest wait in the `queued` state,
 * oldest first. The database row of each job is its durable state: a job that was running when
 * the manager stopped is resumed from its committed tasks at the next `start()`.
 *
 * With TORPEDO_LAUNCHER=kubernetes, a job runs as a master Job on the cluster instead, through a
 * ClusterRunner (see src/manager/cluster-runner.ts): every replica follows every running job, and
 * any of them serves its state, records its end or cancels it. The cap then counts the whole
 * cluster's running jobs, and stopping a manager leaves its jobs running.
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
  /** With TORPEDO_LAUNCHER=kubernetes: how jobs run on the cluster. */
  readonly #cluster: ClusterRunner | undefined;
  /** uids for the sandboxes of running jobs and of submissions being checked. */
  readonly #slots: SlotAllocator;
  readonly #checker: CodeChecker;

  constructor(o: { config: ManagerConfig; db: Db; datasets: DatasetStore; metrics: ManagerMetrics; log: (line: string) => void }) {
    this.#config = o.config;
    this.#db = o.db;
    this.#datasets = o.datasets;
    this.#metrics = o.metrics;
    this.#log = o.log;
    this.#slots = new SlotAllocator(o.config.limits.sandboxIds);
    this.#checker = ClusterRunner.codeChecker(o.config, o.log) ?? new LocalCodeChecker({ limits: o.config.limits, slots: this.#slots, identity: this.#ownUids() ? 'own' : 'caller', hidden: [o.config.home] });
    // config.ts sets `kubernetes` exactly when TORPEDO_LAUNCHER=kubernetes.
    const settings = o.config.launcher === 'kubernetes' ? o.config.kubernetes : undefined;
    if (settings !== undefined) {
      this.#cluster = new ClusterRunner({
        settings,
        db: o.db,
        log: o.log,
        host: {
          runOptions: (row) => this.#runOptions(row),
          statusFile: (id) => this.statusFile(id),
          progress: (id, progress, save) => this.#progressed(id, progress, save),
          recordEnd: (id, end) => this.#recordEnd(id, end),
          ended: (id) => this.#ended(id),
        },
      });
    }
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
    if (req.code !== undefined || req.mapper !== undefined) this.#checkSandbox();
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
    await this.#checkQueueCap(ownerId);
    const id = `job-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const dir = this.jobDir(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let hasSetup: boolean | undefined;
    try {
      if (req.code !== undefined) {
        const language = req.language ?? 'ts';
        const name = language === 'ts' ? 'job.ts' : 'job.mjs';
        const source = join(dir, name);
        await writeFile(source, req.code, { mode: 0o600 });
        const bundle = join(dir, 'bundle', 'job.mjs');
        await mkdir(join(dir, 'bundle'), { mode: 0o700 });
        ({ hasSetup } = await this.#checker.check({ jobId: id, ownerId, source, bundle, typecheck: language === 'ts', name, relativeTo: dir }));
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
        ...(hasSetup !== undefined ? { hasSetup } : {}),
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
    this.#log(this.#sandboxNote());
    if (this.#cluster !== undefined) {
      // Jobs running on the cluster went on without us: follow them again.
      this.#cluster.follow();
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
    if (this.#cluster !== undefined) {
      await this.#cluster.stop();
      return;
    }
    for (const run of this.#running.values()) run.master?.abort(STOPPING);
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Live state of a job running here, with every task and attempt, or undefined. */
  live(id: string): JobSnapshot | undefined {
    if (this.#cluster !== undefined) return this.#cluster.live(id);
    return this.#running.get(id)?.master?.snapshot();
  }

  /** Live progress of a job running here (cheaper than `live`: no task table), or undefined. */
  liveProgress(id: string): JobProgress | undefined {
    const p = this.#cluster !== undefined ? this.#cluster.progress(id) : this.#running.get(id)?.master?.progress();
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
    if (this.#cluster !== undefined) return this.#cancelOnCluster(this.#cluster, id, reason);
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
            const next = await this.#nextQueued();
            if (next === undefined) break;
            // Claim it atomically: another kick (or replica) may have taken it meanwhile.
            const claimed = await this.#db
              .update(jobs)
              .set({ status: 'running', startedAt: new Date(), phase: 'starting' })
              .where(and(eq(jobs.id, next.id), eq(jobs.status, 'queued')))
              .returning();
            if (claimed[0] !== undefined && this.#cluster !== undefined) this.#cluster.start(claimed[0]);
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

  /** Jobs running anywhere: on a cluster the cap is the cluster's, here the process's. */
  async #runningCount(): Promise<number> {
    if (this.#cluster === undefined) return this.#running.size;
    const [row] = await this.#db.select({ n: count() }).from(jobs).where(eq(jobs.status, 'running'));
    return Number(row?.n ?? 0);
  }

  /**
   * The next queued job to start, fair across users: of each user's oldest queued job, the one
   * whose owner has the fewest jobs running, then whose owner's last start is the longest ago
   * (round robin), then the oldest; among owners below their cap of running jobs. So one user's
   * hundreds of queued jobs delay another's single job by one job slot at most: the next slot to
   * free is theirs.
   */
  async #nextQueued(): Promise<JobRow | undefined> {
    const running = await this.#db.select({ ownerId: jobs.ownerId, n: count() }).from(jobs).where(eq(jobs.status, 'running')).groupBy(jobs.ownerId);
    const runningOf = new Map(running.map((r) => [r.ownerId, Number(r.n)]));
    const heads = (await this.#db.selectDistinctOn([jobs.ownerId]).from(jobs).where(eq(jobs.status, 'queued')).orderBy(jobs.ownerId, asc(jobs.createdAt))).filter(
      (row) => (runningOf.get(row.ownerId) ?? 0) < this.#config.limits.maxRunningJobsPerUser,
    );
    if (heads.length <= 1) return heads[0];
    const starts = await this.#db
      .select({ ownerId: jobs.ownerId, last: max(jobs.startedAt) })
      .from(jobs)
      .where(inArray(jobs.ownerId, heads.map((h) => h.ownerId)))
      .groupBy(jobs.ownerId);
    const lastStart = new Map(starts.map((r) => [r.ownerId, r.last === null ? 0 : new Date(r.last).getTime()]));
    const key = (row: JobRow): [number, number, number] => [runningOf.get(row.ownerId) ?? 0, lastStart.get(row.ownerId) ?? 0, row.createdAt.getTime()];
    return heads.sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
    })[0];
  }

  /** One user's queued jobs are capped: beyond, 429. */
  async #checkQueueCap(ownerId: number): Promise<void> {
    const cap = this.#config.limits.maxQueuedJobsPerUser;
    const [row] = await this.#db.select({ n: count() }).from(jobs).where(and(eq(jobs.ownerId, ownerId), eq(jobs.status, 'queued')));
    const queued = Number(row?.n ?? 0);
    if (queued >= cap) {
      throw new TorpedoError('TORPEDO_ERR_RATE_LIMITED', `you have ${queued} jobs waiting to run, the most this manager queues for one user (TORPEDO_MAX_QUEUED_JOBS_PER_USER); submit more once some have started`, {
        retryAfterSeconds: 30,
      });
    }
  }

  /** What the operator is told at start about how users' code is confined. */
  #sandboxNote(): string {
    if (this.#config.launcher !== 'local') return "users' code runs in the job's pods (docs/kubernetes-launcher.md)";
    const support = sandboxSupport();
    if (this.#ownUids()) return `users' code runs confined: ${support.reason}`;
    if (this.#config.limits.allowWeakSandbox) {
      return `WARNING: users' code cannot be fully confined here (${support.reason}); it runs anyway, as TORPEDO_ALLOW_WEAK_SANDBOX=true allows: see docs/security.md for what that leaves open`;
    }
    return `WARNING: users' code cannot be fully confined here (${support.reason}): job modules and streaming commands are refused (503) until bubblewrap runs as root, or TORPEDO_ALLOW_WEAK_SANDBOX=true (docs/security.md)`;
  }

  /** Whether jobs' sandboxes get uids of their own (bubblewrap as root), which multi-user confinement needs. */
  #ownUids(): boolean {
    return this.#config.launcher === 'local' && sandboxSupport().level === 'full';
  }

  /**
   * Users' code (modules, streaming commands) runs only fully confined, unless the operator
   * allowed less (TORPEDO_ALLOW_WEAK_SANDBOX=true). On Kubernetes, the pods confine it.
   */
  #checkSandbox(): void {
    if (this.#config.launcher !== 'local' || this.#ownUids() || this.#config.limits.allowWeakSandbox) return;
    throw new TorpedoError(
      'TORPEDO_ERR_SANDBOX',
      `this manager cannot confine users' code: ${sandboxSupport().reason}. Its operator can install bubblewrap and run it as root, or accept weaker confinement with TORPEDO_ALLOW_WEAK_SANDBOX=true (docs/security.md); built-in examples still run`,
    );
  }

  #launch(row: JobRow): void {
    const run: Running = { master: undefined, slot: undefined, cancelReason: undefined, done: Promise.resolve() };
    run.done = this.#execute(row, run).finally(() => {
      if (run.slot !== undefined) this.#slots.release(run.slot);
      this.#running.delete(row.id);
      this.#kick();
    });
    this.#running.set(row.id, run);
  }

  /**
   * A running job's workers: a uid of the job's own, with its owner's dataset group (whose files
   * are made readable to that group), where the machine allows; else the manager's own (allowed
   * by TORPEDO_ALLOW_WEAK_SANDBOX, or a built-in example). The manager's home stays hidden.
   */
  async #confinement(row: JobRow, run: Running): Promise<WorkerConfinement> {
    const hidden = [this.#config.home];
    if (!this.#ownUids()) {
      if (row.job === 'code' || row.job === 'streaming') this.#checkSandbox();
      return { identity: 'caller', hidden };
    }
    run.slot = this.#slots.allocate();
    const identity = jobIdentity(this.#config.limits.sandboxIds, run.slot, row.ownerId);
    await this.#datasets.grantRead(row.ownerId, (row.spec as JobSpec).inputs, identity.groups[0] as number);
    return { identity, hidden };
  }

  /** How the engine runs a job of the API: its files in the manager's storage, fixed engine settings. */
  #runOptions(row: JobRow): RunJobOptions {
    const spec = row.spec as JobSpec;
    const limits = this.#config.limits;
    return {
      job: row.job === 'code' ? join(this.jobDir(row.id), 'bundle', 'job.mjs') : row.job,
      precompiled: row.job === 'code',
      ...(spec.hasSetup !== undefined ? { probed: { hasSetup: spec.hasSetup } } : {}),
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
      taskTimeoutMs: limits.taskTimeoutMs,
      workerMemoryBytes: limits.workerMemoryBytes,
    };
  }

  async #execute(row: JobRow, run: Running): Promise<void> {
    let summary: JobSummary | undefined;
    let error: ErrorReport | undefined;
    try {
      summary = await runLocalJob({
        ...this.#runOptions(row),
        confinement: await this.#confinement(row, run),
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
    const status = run.cancelReason !== undefined ? 'cancelled' : summary?.status === 'succeeded' ? 'succeeded' : 'failed';
    const reported = status === 'cancelled' ? cancelled(run.cancelReason ?? '') : status === 'failed' ? error : undefined;
    await this.#recordEnd(row.id, {
      status,
      ...(reported !== undefined ? { error: reported } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...(summary !== undefined ? { summary } : {}),
    });
    this.#emit(row.id, { type: 'end' });
  }

  /** Sends progress to listeners when it changed; saves it to the database every few seconds. */
  #tick(): void {
    const persist = Date.now() - this.#lastPersist >= PERSIST_EVERY_MS;
    if (persist) this.#lastPersist = Date.now();
    for (const [id, run] of this.#running) {
      if (run.master === undefined) continue;
      this.#progressed(id, run.master.progress(), persist).catch((e: unknown) => this.#log(`saving progress of ${id} failed: ${String(e)}`));
    }
  }

  /** Cancels a job running on the cluster, as any replica may: its row first, then its objects. */
  async #cancelOnCluster(cluster: ClusterRunner, id: string, reason: string): Promise<void> {
    const snapshot = cluster.live(id);
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
    await cluster.cancel(id);
    this.#log(`job ${id} cancelled: ${reason}`);
    this.#ended(id);
  }

  // ── bookkeeping shared by both ways of running ──────────────────────────────────────────────

  /** Sends a running job's progress to its listeners when it changed; with `save`, saves it to its row. */
  async #progressed(id: string, p: JobProgress, save: boolean): Promise<void> {
    const progress = progressOf(p);
    const text = JSON.stringify(progress);
    if (this.#lastSent.get(id) !== text && this.#listeners.has(id)) {
      this.#lastSent.set(id, text);
      this.#emit(id, { type: 'progress', progress: { status: 'running', ...progress } });
    }
    if (save) {
      await this.#db
        .update(jobs)
        .set({ progress, phase: progress.phase })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running')));
    }
  }

  /**
   * Saves a job's end to its row, once: only while the row is `running`, so that of the replicas
   * following a cluster job one alone saves it. True if this call did; it then counts the job's
   * task attempts in the metrics and logs the end.
   */
  async #recordEnd(id: string, end: JobEnd): Promise<boolean> {
    const progress = end.progress ?? (end.snapshot !== undefined ? progressOf(end.snapshot) : undefined);
    const summary = end.summary;
    const saved = await this.#db
      .update(jobs)
      .set({
        status: end.status,
        phase: end.status,
        finishedAt: new Date(),
        ...(progress !== undefined ? { progress } : {}),
        ...(end.snapshot !== undefined ? { tasks: end.snapshot.tasks } : {}),
        ...(summary !== undefined ? { counters: { counters: summary.counters, userCounters: summary.userCounters, wallMs: summary.wallMs } } : {}),
        error: end.error ?? null,
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
      .returning({ id: jobs.id });
    if (saved.length === 0) return false;
    for (const t of end.snapshot?.tasks ?? []) for (const a of t.attempts) this.#metrics.tasks.inc({ kind: t.kind, outcome: a.state });
    this.#log(`job ${id} ${end.status}${end.status === 'failed' && end.error !== undefined ? `: ${end.error.code}: ${end.error.message}` : ''}`);
    return true;
  }

  /** Job `id` no longer runs: its listeners get their end event, and a queued job may start. */
  #ended(id: string): void {
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

function cancelled(reason: string): ErrorReport {
  return { code: 'TORPEDO_ERR_CANCELLED', message: reason === '' ? 'the job was cancelled' : reason };
}
