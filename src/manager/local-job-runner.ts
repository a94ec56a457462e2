import { asc, eq } from 'drizzle-orm';
import { TorpedoError, isTorpedoError } from '../errors.ts';
import { runLocalJob } from '../job/run-local-job.ts';
import type { WorkerConfinement } from '../launcher/worker-sandbox.ts';
import type { JobSnapshot, Master, Progress } from '../master/master.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import { jobIdentity, sandboxSupport, SlotAllocator } from '../sandbox/index.ts';
import { LocalCodeChecker, type CodeChecker } from './code-checker.ts';
import type { ManagerConfig } from './config.ts';
import type { Db } from './database/database.ts';
import { jobs } from './database/schema.ts';
import { untilSaved } from './database/outage.ts';
import type { DatasetStore } from './dataset-store.ts';
import { cancelled, type JobRow, type JobSpec } from './job-records.ts';
import type { JobRunner, JobRunnerHost } from './job-runner.ts';

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
 * Runs jobs on this machine: each job's master in the manager's process, its workers as child
 * processes, confined with a uid of the job's own where bubblewrap runs as root
 * (src/sandbox/). A job that was running when the manager stopped is resumed from its committed
 * tasks at the next `start()`; stopping a manager stops its jobs' workers.
 */
export class LocalJobRunner implements JobRunner {
  readonly codeChecker: CodeChecker;
  readonly #config: ManagerConfig;
  readonly #db: Db;
  readonly #datasets: DatasetStore;
  readonly #host: JobRunnerHost;
  readonly #running = new Map<string, Running>();
  /** uids for the sandboxes of running jobs and of submissions being checked. */
  readonly #slots: SlotAllocator;
  #ticker: NodeJS.Timeout | undefined;
  #lastPersist = -Infinity;
  #stopping = false;

  constructor(o: { config: ManagerConfig; db: Db; datasets: DatasetStore; host: JobRunnerHost }) {
    this.#config = o.config;
    this.#db = o.db;
    this.#datasets = o.datasets;
    this.#host = o.host;
    this.#slots = new SlotAllocator(o.config.limits.sandboxIds);
    this.codeChecker = new LocalCodeChecker({ limits: o.config.limits, slots: this.#slots, identity: this.#ownUids() ? 'own' : 'caller', hidden: [o.config.home] });
  }

  confinementNote(): string {
    const support = sandboxSupport();
    if (this.#ownUids()) return `users' code runs confined: ${support.reason}`;
    if (this.#config.limits.allowWeakSandbox) {
      return `WARNING: users' code cannot be fully confined here (${support.reason}); it runs anyway, as TORPEDO_ALLOW_WEAK_SANDBOX=true allows: see docs/security.md for what that leaves open`;
    }
    return `WARNING: users' code cannot be fully confined here (${support.reason}): job modules and streaming commands are refused (503) until bubblewrap runs as root, or TORPEDO_ALLOW_WEAK_SANDBOX=true (docs/security.md)`;
  }

  /** Users' code runs only fully confined, unless the operator allowed less (TORPEDO_ALLOW_WEAK_SANDBOX=true). */
  checkConfinable(): void {
    if (this.#ownUids() || this.#config.limits.allowWeakSandbox) return;
    throw new TorpedoError(
      'TORPEDO_ERR_SANDBOX',
      `this manager cannot confine users' code: ${sandboxSupport().reason}. Its operator can install bubblewrap and run it as root, or accept weaker confinement with TORPEDO_ALLOW_WEAK_SANDBOX=true (docs/security.md); built-in examples still run`,
    );
  }

  async start(): Promise<void> {
    const interrupted = await this.#db.select().from(jobs).where(eq(jobs.status, 'running')).orderBy(asc(jobs.createdAt));
    for (const row of interrupted) {
      this.#host.log(`resuming job ${row.id}, interrupted when the manager stopped`);
      this.run(row);
    }
    this.#ticker = setInterval(() => this.#tick(), PROGRESS_EVERY_MS);
  }

  run(row: JobRow): void {
    const run: Running = { master: undefined, slot: undefined, cancelReason: undefined, done: Promise.resolve() };
    let ended = false;
    run.done = this.#execute(row, run)
      .then((e) => void (ended = e))
      .catch((e: unknown) => this.#host.log(`job ${row.id}: its end could not be saved (${(e as Error).message}); it is taken up again at the next start`))
      .finally(() => {
        if (run.slot !== undefined) this.#slots.release(run.slot);
        this.#running.delete(row.id);
        // A job left `running` at shutdown has not ended: its listeners get no end event.
        if (ended) this.#host.ended(row.id);
      });
    this.#running.set(row.id, run);
  }

  runningCount(): Promise<number> {
    return Promise.resolve(this.#running.size);
  }

  live(id: string): JobSnapshot | undefined {
    return this.#running.get(id)?.master?.snapshot();
  }

  progress(id: string): Progress | undefined {
    return this.#running.get(id)?.master?.progress();
  }

  async cancel(id: string, reason: string): Promise<void> {
    const run = this.#running.get(id);
    if (run === undefined) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${id} has already ended`);
    run.cancelReason = reason;
    run.master?.abort(cancelled(reason));
    await run.done;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#ticker);
    for (const run of this.#running.values()) run.master?.abort(STOPPING);
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /** Whether jobs' sandboxes get uids of their own (bubblewrap as root), which multi-user confinement needs. */
  #ownUids(): boolean {
    return sandboxSupport().level === 'full';
  }

  /**
   * A running job's workers: a uid of the job's own, with its owner's dataset group (whose files
   * are made readable to that group), where the machine allows; else the manager's own (allowed
   * by TORPEDO_ALLOW_WEAK_SANDBOX, or a built-in example). The manager's home stays hidden.
   */
  async #confinement(row: JobRow, run: Running): Promise<WorkerConfinement> {
    const hidden = [this.#config.home];
    if (!this.#ownUids()) {
      if (row.job === 'code' || row.job === 'streaming') this.checkConfinable();
      return { identity: 'caller', hidden };
    }
    run.slot = this.#slots.allocate();
    const identity = jobIdentity(this.#config.limits.sandboxIds, run.slot, row.ownerId);
    await this.#datasets.grantRead(row.ownerId, (row.spec as JobSpec).inputs, identity.groups[0] as number);
    return { identity, hidden };
  }

  /** Runs a job to its end and records it; false if it was left `running` because the manager stops. */
  async #execute(row: JobRow, run: Running): Promise<boolean> {
    let summary: JobSummary | undefined;
    let error: ErrorReport | undefined;
    try {
      summary = await runLocalJob({
        ...this.#host.runOptions(row),
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
    if (this.#stopping && run.cancelReason === undefined) return false; // stays `running`: resumed at the next start
    const snapshot = run.master?.snapshot();
    const status = run.cancelReason !== undefined ? 'cancelled' : summary?.status === 'succeeded' ? 'succeeded' : 'failed';
    const reported = status === 'cancelled' ? cancelled(run.cancelReason ?? '') : status === 'failed' ? error : undefined;
    const end = {
      status,
      ...(reported !== undefined ? { error: reported } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
      ...(summary !== undefined ? { summary } : {}),
    } as const;
    // An end during a database outage is kept until the database answers again (or the manager
    // stops: the row, still `running`, is resumed at the next start and finds the output committed).
    await untilSaved(`the end of job ${row.id}`, () => this.#host.recordEnd(row.id, end), { log: this.#host.log, stopped: () => this.#stopping });
    return true;
  }

  /** Sends progress to listeners when it changed; saves it to the database every few seconds. */
  #tick(): void {
    const persist = performance.now() - this.#lastPersist >= PERSIST_EVERY_MS;
    if (persist) this.#lastPersist = performance.now();
    for (const [id, run] of this.#running) {
      if (run.master === undefined) continue;
      this.#host.progress(id, run.master.progress(), persist).catch((e: unknown) => this.#host.log(`saving progress of ${id} failed: ${String(e)}`));
    }
  }
}
