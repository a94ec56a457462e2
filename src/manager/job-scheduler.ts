import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, asc, count, eq, inArray, lt, max, sql } from 'drizzle-orm';
import { EXAMPLE_NAMES, EXAMPLE_PARAMS, EXAMPLE_REDUCERS, isExampleName } from '../../examples/names.ts';
import { TorpedoError } from '../errors.ts';
import type { RunJobOptions } from '../job/run-local-job.ts';
import type { JobSnapshot } from '../master/master.ts';
import { API_SPELLING, checkParams } from '../protocol/job-params.ts';
import { API_SETTINGS, resolveSettings } from '../protocol/job-settings.ts';
import { MASTER_STATUS_FILE } from '../protocol/master-status.ts';
import { NAMED_OUTPUT, PART_NAME } from '../protocol/task-names.ts';
import { parsePodRequest, resolveJobPods } from '../kubernetes/pod-policy.ts';
import { ClusterJobRunner } from './cluster-job-runner.ts';
import type { ManagerConfig } from './config.ts';
import type { Db } from './database/database.ts';
import { isOutage, outageReason } from './database/outage.ts';
import { jobs } from './database/schema.ts';
import type { DatasetStore } from './dataset-store.ts';
import { cancelled, progressOf, type JobEnd, type JobEvent, type JobProgress, type JobRow, type JobSpec } from './job-records.ts';
import type { JobRunner, JobRunnerHost } from './job-runner.ts';
import { LocalJobRunner } from './local-job-runner.ts';
import type { ManagerMetrics } from './metrics.ts';
import { checkDatasetName } from './names.ts';
import { compareFair, queuePlaces, type QueuedJob, type QueuePlace } from './queue-order.ts';
import type { SubmitRequest } from './rest-types.ts';

function queuedJob(row: { id: string; ownerId: number; createdAt: Date }): QueuedJob {
  return { id: row.id, ownerId: row.ownerId, createdAt: row.createdAt.getTime() };
}

/** The states a job ends in: it may be deleted, by its owner or by the retention. */
const ENDED = ['succeeded', 'failed', 'cancelled'] as const;

/** How often finished jobs past their retention are looked for. */
const RETENTION_SWEEP_MS = 3_600_000;

/** How soon the queue is looked at again after a look failed. */
const KICK_RETRY_MS = 2000;

export type { JobEnd, JobEvent, JobProgress, JobRow, JobSpec } from './job-records.ts';
export { progressOf } from './job-records.ts';

/** What `POST /jobs` accepts (already checked against its JSON Schema). */
export type { SubmitRequest };

/**
 * Keeps the queue of submitted jobs and their rows, and hands claimed jobs to a JobRunner
 * (src/manager/job-runner.ts): LocalJobRunner (the master in this process, workers as child
 * processes) or, with TORPEDO_LAUNCHER=kubernetes, ClusterJobRunner (a master Job on the cluster,
 * followed by every replica). At most `maxRunningJobs` run at once; the rest wait in the
 * `queued` state, fairly across users. The database row of each job is its durable state: a job
 * that was running when the manager stopped is taken up again by the runner's `start()`.
 */
export class JobScheduler {
  readonly #config: ManagerConfig;
  readonly #db: Db;
  readonly #datasets: DatasetStore;
  readonly #metrics: ManagerMetrics;
  readonly #log: (line: string) => void;
  readonly #listeners = new Map<string, Set<(e: JobEvent) => void>>();
  readonly #lastSent = new Map<string, string>();
  #kicking = false;
  #kickAgain = false;
  #stopping = false;
  /** The last look at the queue failed (a database outage): another is due. */
  #kickFailing = false;
  #sweeper: NodeJS.Timeout | undefined;
  /** How claimed jobs run: here, or on the cluster. */
  readonly #runner: JobRunner;

  constructor(o: { config: ManagerConfig; db: Db; datasets: DatasetStore; metrics: ManagerMetrics; log: (line: string) => void }) {
    this.#config = o.config;
    this.#db = o.db;
    this.#datasets = o.datasets;
    this.#metrics = o.metrics;
    this.#log = o.log;
    const host: JobRunnerHost = {
      runOptions: (row) => this.#runOptions(row),
      statusFile: (id) => this.statusFile(id),
      progress: (id, progress, save) => this.#progressed(id, progress, save),
      recordEnd: (id, end) => this.#recordEnd(id, end),
      ended: (id) => this.#ended(id),
      log: o.log,
    };
    // config.ts sets `kubernetes` exactly when TORPEDO_LAUNCHER=kubernetes.
    const settings = o.config.kubernetes;
    this.#runner =
      o.config.launcher === 'kubernetes' && settings !== undefined
        ? new ClusterJobRunner({ settings, limits: o.config.limits, db: o.db, host })
        : new LocalJobRunner({ config: o.config, db: o.db, datasets: o.datasets, host });
  }

  jobDir(id: string): string {
    return join(this.#config.home, 'jobs', id);
  }

  outputDir(id: string): string {
    return join(this.jobDir(id), 'output');
  }

  /** Where a job's master writes its state on a cluster (outside `output/_temporary`, which the commit removes). */
  statusFile(id: string): string {
    return join(this.jobDir(id), MASTER_STATUS_FILE);
  }

  /** Part files of a succeeded job, in order. */
  outputParts(id: string): string[] {
    return this.outputFiles(id).filter((f) => PART_NAME.test(f));
  }

  /** The files of a succeeded job's output: its parts, and its named outputs' files (`emit.to`). */
  outputFiles(id: string): string[] {
    const dir = this.outputDir(id);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => PART_NAME.test(f) || NAMED_OUTPUT.test(f))
      .sort();
  }

  /**
   * Checks and stores a job: inputs must be the owner's datasets; submitted code is bundled and
   * type-checked in a child process and loaded once in a sandboxed one, so a syntax or type error
   * (with file:line), a module without map/reduce, or parameters the job does not declare (or a
   * required one missing) are refused here with 400, not at run time.
   */
  async submit(ownerId: number, req: SubmitRequest): Promise<string> {
    const kinds = [req.example, req.code, req.mapper].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'give exactly one of `example` (a built-in job), `code` (a job module as text) and `mapper` with `reducer` (a streaming job)');
    }
    if ((req.mapper === undefined) !== (req.reducer === undefined)) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'a streaming job needs both `mapper` and `reducer`');
    if (req.mapper === undefined && req.combiner !== undefined) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', '`combiner` belongs to streaming jobs (`mapper`, `reducer`)');
    }
    const fileNames = Object.keys(req.files ?? {});
    for (const name of fileNames) checkDatasetName(name);
    if (req.code !== undefined || req.mapper !== undefined) this.#runner.checkConfinable();
    if (req.example !== undefined && !isExampleName(req.example)) {
      throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `no built-in example ${JSON.stringify(req.example)}; there are ${EXAMPLE_NAMES.join(', ')}`);
    }
    // A built-in job's parameters are known without loading it; submitted code's, once it is loaded below.
    if (req.example !== undefined) checkParams(EXAMPLE_PARAMS[req.example], req.params ?? {}, req.example, API_SPELLING);
    if (req.splitSize !== undefined && req.maps !== undefined) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'give `splitSize` or `maps`, not both');
    // The settings users may give, the manager's defaults for the rest (JOB_SETTINGS' apiDefault).
    // A built-in job's own default for R (grep: map-only), unless R is given.
    const exampleReducers = req.example !== undefined && req.reducers === undefined && isExampleName(req.example) ? EXAMPLE_REDUCERS[req.example] : undefined;
    const settings = resolveSettings({ ...req, ...(exampleReducers !== undefined ? { reducers: exampleReducers } : {}) }, { api: true });
    const { workers } = settings;
    if (workers > this.#config.maxWorkersPerJob) {
      throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `workers is ${workers}; this manager allows at most ${this.#config.maxWorkersPerJob} per job`);
    }
    if (req.pods !== undefined) {
      const cluster = this.#config.kubernetes;
      if (this.#config.launcher !== 'kubernetes' || cluster === undefined) {
        throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', '`pods` (resources, nodeSelector, tolerations, priorityClassName) is for jobs on Kubernetes; this manager runs jobs as local processes');
      }
      // Within the operator's bounds (TORPEDO_K8S_*), or a 400 that says what is allowed.
      resolveJobPods(cluster.pods, req.pods);
    }
    const pods = req.pods !== undefined ? parsePodRequest(req.pods) : undefined;
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
        const probed = await this.#runner.codeChecker.check({ jobId: id, ownerId, source, bundle, typecheck: language === 'ts', name, relativeTo: dir });
        checkParams(probed.params, req.params ?? {}, name, API_SPELLING);
        if (probed.hasReduce === false && settings.reducers > 0) {
          throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${name}: the default export has no \`reduce\` function: give it one, or run it map-only with reducers 0`);
        }
        hasSetup = probed.hasSetup;
      }
      if (req.files !== undefined) {
        await mkdir(join(dir, 'files'));
        for (const [name, text] of Object.entries(req.files)) await writeFile(join(dir, 'files', name), text, { mode: 0o644 });
      }
      const given = Object.fromEntries(API_SETTINGS.filter((n) => settings[n] !== null).map((n) => [n, settings[n]]));
      const spec: JobSpec = {
        ...given,
        reducers: settings.reducers,
        workers,
        inputs,
        params: req.params ?? {},
        ...(req.code !== undefined ? { language: req.language ?? 'ts' } : {}),
        ...(hasSetup !== undefined ? { hasSetup } : {}),
        ...(pods !== undefined ? { pods } : {}),
        ...(req.mapper !== undefined && req.reducer !== undefined
          ? { streaming: { mapper: req.mapper, reducer: req.reducer, ...(req.combiner !== undefined ? { combiner: req.combiner } : {}), files: fileNames } }
          : fileNames.length > 0
            ? { sideFiles: fileNames }
            : {}),
      };
      await this.#db.insert(jobs).values({ id, ownerId, job: req.example ?? (req.code !== undefined ? 'code' : 'streaming'), name: req.name ?? null, spec, status: 'queued' });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    this.#kick();
    return id;
  }

  /**
   * Deletes a finished job: its row, then its directory (output, code, files). 409 for a job that
   * has not ended (cancel it first); true if this call deleted it, false if another had.
   */
  async remove(id: string): Promise<boolean> {
    const removed = await this.#db
      .delete(jobs)
      .where(and(eq(jobs.id, id), inArray(jobs.status, [...ENDED])))
      .returning({ id: jobs.id });
    if (removed.length === 0) {
      const [row] = await this.#db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, id));
      if (row === undefined) return false;
      throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${id} is ${row.status}; cancel it before deleting it`);
    }
    await rm(this.jobDir(id), { recursive: true, force: true });
    this.#lastSent.delete(id);
    return true;
  }

  /**
   * Submits a job again as its owner, with the spec it was submitted with: the same job (built-in,
   * module or streaming commands and files, kept in its directory), inputs, settings, parameters
   * and name. It is a new job with an output of its own; it reads the datasets as they are now.
   */
  async rerun(row: JobRow): Promise<string> {
    const spec = row.spec as JobSpec;
    const dir = this.jobDir(row.id);
    const given = Object.fromEntries(API_SETTINGS.filter((n) => spec[n] !== undefined).map((n) => [n, spec[n]]));
    const base = { ...given, inputs: spec.inputs, params: spec.params, ...(spec.pods !== undefined ? { pods: spec.pods } : {}), ...(row.name !== null ? { name: row.name } : {}) };
    let req: SubmitRequest;
    try {
      // The job's files (a streaming job's, or a JavaScript job's side files), name → text, as submitted.
      const filesOf = async (names: readonly string[]): Promise<{ files?: Record<string, string> }> =>
        names.length === 0 ? {} : { files: Object.fromEntries(await Promise.all(names.map(async (f) => [f, await readFile(join(dir, 'files', f), 'utf8')] as const))) };
      const side = await filesOf(spec.sideFiles ?? []);
      if (row.job === 'code') {
        const language = spec.language ?? 'ts';
        req = { ...base, ...side, code: await readFile(join(dir, language === 'ts' ? 'job.ts' : 'job.mjs'), 'utf8'), language };
      } else if (spec.streaming !== undefined) {
        const { mapper, reducer, combiner } = spec.streaming;
        req = { ...base, mapper, reducer, ...(combiner !== undefined ? { combiner } : {}), ...(await filesOf(spec.streaming.files)) };
      } else {
        req = { ...base, ...side, example: row.job };
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${row.id} cannot run again: its code or files are no longer kept`);
    }
    return this.submit(row.ownerId, req);
  }

  /**
   * Deletes the finished jobs that ended more than TORPEDO_JOB_RETENTION_DAYS before `now`, with
   * their output; nothing with a retention of 0. Runs at start and every hour; idempotent, so
   * replicas may run it at once. Resolves with the ids deleted.
   */
  async removeExpired(now = Date.now()): Promise<string[]> {
    const keep = this.#config.jobRetentionMs;
    if (keep === 0) return [];
    const expired = await this.#db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(inArray(jobs.status, [...ENDED]), lt(jobs.finishedAt, new Date(now - keep))));
    const removed: string[] = [];
    for (const { id } of expired) {
      const gone = await this.remove(id).catch((e: unknown) => {
        this.#log(`could not delete job ${id} past the retention: ${(e as Error).message}`);
        return false;
      });
      if (gone) removed.push(id);
    }
    if (removed.length > 0) this.#log(`deleted ${removed.length} job${removed.length === 1 ? '' : 's'} past the retention of ${keep / 86_400_000} days: ${removed.join(', ')}`);
    return removed;
  }

  /** Resumes the jobs that were running when the manager last stopped, then starts queued ones. */
  async start(): Promise<void> {
    this.#log(this.#runner.confinementNote());
    await this.#runner.start();
    this.#kick();
    if (this.#config.jobRetentionMs > 0) {
      const sweep = (): void => void this.removeExpired().catch((e: unknown) => this.#log(`deleting expired jobs failed: ${isOutage(e) ? outageReason(e) : String(e)}`));
      sweep();
      this.#sweeper = setInterval(sweep, RETENTION_SWEEP_MS);
      this.#sweeper.unref();
    }
  }

  /**
   * Stops every running job's workers without ending the jobs: their rows stay `running`, and the
   * next start resumes them from their committed tasks. Called once, at shutdown.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sweeper);
    await this.#runner.stop();
  }

  /** Live state of a job running here, with every task and attempt, or undefined. */
  live(id: string): JobSnapshot | undefined {
    return this.#runner.live(id);
  }

  /** Live progress of a job running here (cheaper than `live`: no task table), or undefined. */
  liveProgress(id: string): JobProgress | undefined {
    const p = this.#runner.progress(id);
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
    await this.#runner.cancel(id, reason);
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
          while (!this.#stopping && (await this.#runner.runningCount()) < this.#config.maxRunningJobs) {
            const next = await this.#nextQueued();
            if (next === undefined) break;
            // Claim it atomically: another kick (or replica) may have taken it meanwhile.
            const claimed = await this.#db
              .update(jobs)
              .set({ status: 'running', startedAt: new Date(), phase: 'starting' })
              .where(and(eq(jobs.id, next.id), eq(jobs.status, 'queued')))
              .returning();
            if (claimed[0] !== undefined) {
              this.#metrics.queueWait.observe((claimed[0].startedAt!.getTime() - claimed[0].createdAt.getTime()) / 1000);
              this.#runner.run(claimed[0]);
            }
          }
        } while (this.#kickAgain && !this.#stopping);
      } catch (e) {
        // A database outage (or any failure) must not stall the queue: look again shortly.
        if (!this.#kickFailing) this.#log(`scheduling failed, trying again every ${KICK_RETRY_MS / 1000} s: ${isOutage(e) ? outageReason(e) : ((e as Error).stack ?? String(e))}`);
        this.#kickFailing = true;
        if (!this.#stopping) setTimeout(() => this.#kick(), KICK_RETRY_MS).unref();
        return;
      } finally {
        this.#kicking = false;
      }
      if (this.#kickFailing) this.#log('scheduling works again');
      this.#kickFailing = false;
    })();
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
    const state = { runningOf, lastStart };
    return heads.sort((a, b) => compareFair(queuedJob(a), queuedJob(b), state))[0];
  }

  /**
   * Every queued job's place in the queue and why it waits (queue-order.ts), for GET /jobs and
   * GET /jobs/:id. Computed from the database, so every replica gives the same answer.
   */
  async queue(): Promise<Map<string, QueuePlace>> {
    const queued = await this.#db.select({ id: jobs.id, ownerId: jobs.ownerId, createdAt: jobs.createdAt }).from(jobs).where(eq(jobs.status, 'queued'));
    if (queued.length === 0) return new Map();
    const running = await this.#db.select({ ownerId: jobs.ownerId, n: count() }).from(jobs).where(eq(jobs.status, 'running')).groupBy(jobs.ownerId);
    const starts = await this.#db
      .select({ ownerId: jobs.ownerId, last: max(jobs.startedAt) })
      .from(jobs)
      .where(inArray(jobs.ownerId, [...new Set(queued.map((q) => q.ownerId))]))
      .groupBy(jobs.ownerId);
    const state = {
      runningOf: new Map(running.map((r) => [r.ownerId, Number(r.n)])),
      lastStart: new Map(starts.map((r) => [r.ownerId, r.last === null ? 0 : new Date(r.last).getTime()])),
    };
    const total = running.reduce((sum, r) => sum + Number(r.n), 0);
    return queuePlaces(queued.map(queuedJob), state, total, this.#config.maxRunningJobs, this.#config.limits.maxRunningJobsPerUser);
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

  /**
   * How the engine runs a job of the API: its files in the manager's storage; the settings it was
   * submitted with, the operator's limits (TORPEDO_TASK_TIMEOUT_MS, TORPEDO_WORKER_MEMORY), and the
   * engine's defaults for the rest (JOB_SETTINGS).
   */
  #runOptions(row: JobRow): RunJobOptions {
    const spec = row.spec as JobSpec;
    const limits = this.#config.limits;
    const given = Object.fromEntries(API_SETTINGS.filter((n) => spec[n] !== undefined).map((n) => [n, spec[n]]));
    return {
      ...resolveSettings({ ...given, params: spec.params, taskTimeoutMs: limits.taskTimeoutMs, workerMemoryBytes: limits.workerMemoryBytes }),
      job: row.job === 'code' ? join(this.jobDir(row.id), 'bundle', 'job.mjs') : row.job,
      precompiled: row.job === 'code',
      ...(spec.hasSetup !== undefined ? { probed: { hasSetup: spec.hasSetup } } : {}),
      ...(spec.pods !== undefined ? { pods: spec.pods } : {}),
      ...(spec.streaming !== undefined
        ? { streaming: { ...spec.streaming, files: spec.streaming.files.map((f) => join(this.jobDir(row.id), 'files', f)) } }
        : {}),
      ...(spec.sideFiles !== undefined && spec.sideFiles.length > 0 ? { files: spec.sideFiles.map((f) => join(this.jobDir(row.id), 'files', f)) } : {}),
      inputs: spec.inputs.map((name) => this.#datasets.pathOf(row.ownerId, name)),
      // User code sees a dataset's name as ctx.file, as errors show it, not the storage path.
      inputNames: Object.fromEntries(spec.inputs.map((name) => [this.#datasets.pathOf(row.ownerId, name), name])),
      output: this.outputDir(row.id),
      force: true,
      resume: true,
      typecheck: false,
    };
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
        ...(summary !== undefined ? { counters: { counters: summary.counters, userCounters: summary.userCounters, wallMs: summary.wallMs, ...(summary.events !== undefined ? { events: summary.events } : {}) } } : {}),
        error: end.error ?? null,
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
      .returning({ id: jobs.id, startedAt: jobs.startedAt, finishedAt: jobs.finishedAt });
    const row = saved[0];
    if (row === undefined) return false;
    for (const t of end.snapshot?.tasks ?? []) for (const a of t.attempts) this.#metrics.tasks.inc({ kind: t.kind, outcome: a.state });
    if (row.startedAt !== null && row.finishedAt !== null) this.#metrics.jobDuration.observe({ status: end.status }, (row.finishedAt.getTime() - row.startedAt.getTime()) / 1000);
    if (progress !== undefined) this.#metrics.bytesIn.inc(progress.inputBytes);
    if (end.status === 'succeeded') this.#metrics.bytesOut.inc(await this.#outputBytes(id));
    this.#log(`job ${id} ${end.status}${end.status === 'failed' && end.error !== undefined ? `: ${end.error.code}: ${end.error.message}` : ''}`);
    return true;
  }

  async #outputBytes(id: string): Promise<number> {
    const sizes = await Promise.all(this.outputParts(id).map(async (p) => (await stat(join(this.outputDir(id), p)).catch(() => ({ size: 0 }))).size));
    return sizes.reduce((a, b) => a + b, 0);
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
