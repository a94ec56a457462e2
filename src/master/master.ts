import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Launcher } from '../launcher/launcher.ts';
import type {
  CommitRequestSchema,
  DoneRequestSchema,
  ErrorReport,
  FailedRequestSchema,
  HeartbeatRequestSchema,
  JobInfo,
  NextResponse,
} from '../protocol/messages.ts';
import { expireAttempts, workerExited, type JobControl } from './attempt-losses.ts';
import { BadRecords } from './bad-records.ts';
import { chooseBackup } from './backup-choice.ts';
import { ChangeSignal } from './change-signal.ts';
import { systemClock, type Clock } from './clock.ts';
import { adoptCommitted, saveSetupResult, unpublish } from './committed-outputs.ts';
import { JobCompletion } from './job-completion.ts';
import { JobPhases, type Phase } from './job-phases.ts';
import { progressOf, snapshotOf, type JobEventNote, type JobSnapshot, type Progress } from './job-snapshot.ts';
import { summarize, type JobSummary } from './job-summary.ts';
import { bookkeepingFailure, commitRefusal, JobTasks, taskFailure, taskMessage, type JobTask } from './job-tasks.ts';
import { expiryCheckMs } from './lease-expiry.ts';
import type { LossCause } from './loss-cause.ts';
import { jobInfo, type MasterOptions } from './master-options.ts';
import { MasterServer, type ProtocolHandlers } from './master-server.ts';
import { JobCounters, saveTaskCounters } from './task-counters.ts';
import { taskName } from './task-name.ts';
import { mapOutputUnreadable, type RerunParts } from './unreadable-outputs.ts';
import { WorkerPool } from './worker-pool.ts';

export type { MasterOptions } from './master-options.ts';
export type { Phase } from './job-phases.ts';
export type { JobEventNote, JobSnapshot, Progress, TaskSnapshot } from './job-snapshot.ts';

const LONG_POLL_MS = 1000;
/** At the end of a job, how long workers get to leave on their own before they are killed. */
const STOP_GRACE_MS = 300;

/**
 * One job's coordinator: answers the task protocol, hands out tasks phase by phase (setup → map
 * → reduce), re-runs failed and lost attempts, and commits the job when every task has committed.
 * The policies it applies live beside it: the phase table (job-phases.ts), backups
 * (backup-choice.ts), skip mode (bad-records.ts), leases (lease-expiry.ts), the workers and their
 * death budget (worker-pool.ts), and restarts (committed-outputs.ts).
 */
export class Master implements ProtocolHandlers {
  readonly #o: MasterOptions;
  readonly #launcher: Launcher;
  readonly #clock: Clock;
  readonly #token: string;
  readonly #log: (line: string) => void;
  readonly #server: MasterServer;
  readonly #tasks: JobTasks;
  readonly #phases: JobPhases;
  readonly #workers: WorkerPool;
  /** What the loss paths (attempt-losses.ts) may do to this job. */
  readonly #control: JobControl;
  readonly #counters = new JobCounters();
  readonly #badRecords = new BadRecords();
  readonly #changes = new ChangeSignal();
  readonly #completion: JobCompletion;
  /** What re-running a map whose output a reduce could not read works on. */
  readonly #rerunParts: RerunParts;
  readonly #startedAt: number;
  /** What the launcher said the owner should know (pods that did not start); in snapshots and the summary. */
  readonly #events: JobEventNote[] = [];
  #url = '';

  constructor(options: MasterOptions, launcher: Launcher) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#startedAt = this.#clock.now();
    this.#token = options.token ?? randomBytes(24).toString('base64url');
    this.#log = options.log ?? (() => {});
    this.#server = new MasterServer(this.#token, this);
    this.#tasks = new JobTasks(options.splits, options.reducers, options.hasSetup);
    this.#phases = new JobPhases(options.hasSetup);
    const deathBudget = 3 * options.workers + options.splits.length + options.reducers;
    this.#launcher = launcher;
    this.#workers = new WorkerPool(launcher, { workers: options.workers, deathBudget });
    const parts = { phases: this.#phases, tasks: this.#tasks, workers: this.#workers, layout: options.layout, reducers: options.reducers, outputCompression: options.outputCompression };
    this.#completion = new JobCompletion({ ...parts, changes: this.#changes, stopGraceMs: STOP_GRACE_MS });
    this.#control = {
      tasks: this.#tasks,
      workers: this.#workers,
      clock: this.#clock,
      running: () => this.#phases.taskKind !== undefined,
      failAttempt: (req, cause) => this.#failAttempt(req, cause),
      fail: (error) => this.#completion.fail(error),
      changed: () => this.#changes.notify(),
      log: this.#log,
    };
    this.#rerunParts = { ...parts, counters: this.#counters, clock: this.#clock, fail: (error) => this.#completion.fail(error), changed: () => this.#changes.notify(), log: this.#log };
  }

  get phase(): Phase {
    return this.#phases.current;
  }

  /** The URL workers connect to (known once `run` listens). */
  get url(): string {
    return this.#url;
  }

  progress(): Progress {
    return progressOf(this.#phases.current, this.#tasks);
  }

  /** Every task with its attempts, for a live task table (the manager's GET /jobs/:id). */
  snapshot(): JobSnapshot {
    return snapshotOf(this.#phases.current, this.#tasks, this.#counters, this.#events);
  }

  /**
   * Ends the job now, as failed with `error` (e.g. TORPEDO_ERR_CANCELLED); `run()` then stops the
   * workers and resolves. Committed task outputs stay, so a later `--resume` can go on from them.
   * Idempotent; ignored once the job has ended.
   */
  abort(error: ErrorReport): void {
    this.#completion.fail(error);
  }

  /** Runs the job to the end; resolves with its summary whether it succeeded or failed. */
  async run(): Promise<JobSummary> {
    const socket = this.#launcher.masterSocket;
    const listening = socket !== undefined ? await this.#server.listenSocket(socket.path, socket.owner) : await this.#server.listen(this.#o.listenHost, this.#o.listenPort);
    this.#url = socket?.url ?? this.#o.advertiseUrl ?? listening;
    this.#log(`job ${this.#o.jobId}: listening on ${listening}; workers connect to ${this.#url}`);
    this.#launcher.onExit = (id, info) => workerExited(this.#control, id, info.code, info.signal, info.stderrTail);
    this.#launcher.onFail = (error) => this.#completion.fail(error);
    this.#launcher.onEvent = (message) => {
      this.#log(`job ${this.#o.jobId}: ${message}`);
      this.#events.push({ at: this.#clock.now(), message });
    };
    const { leaseTimeoutMs, taskTimeoutMs = 0 } = this.#o;
    const lease = setInterval(() => expireAttempts(this.#control, leaseTimeoutMs, taskTimeoutMs), expiryCheckMs(leaseTimeoutMs, taskTimeoutMs));
    try {
      if (!this.#phases.ended) {
        adoptCommitted(this.#o.layout, this.#tasks, this.#counters, this.#log, this.#o.outputCompression, this.#o.reducers === 0);
        this.#completion.advance();
        await this.#workers.start(this.#url, this.#token);
      }
      await this.#completion.ended;
    } finally {
      clearInterval(lease);
      this.#changes.notify();
      if (this.#workers.selfManaged) await this.#workers.drain(Math.max(2 * LONG_POLL_MS, 3 * this.#o.heartbeatMs));
      await this.#workers.stopAll(STOP_GRACE_MS);
      await this.#server.close();
    }
    const o = this.#o;
    const status = this.#phases.current === 'succeeded' ? 'succeeded' : 'failed';
    const { counters, userCounters, workerRss } = this.#counters;
    const wallMs = this.#clock.now() - this.#startedAt;
    const error = this.#completion.error !== undefined ? { error: this.#completion.error } : {};
    return summarize({ jobId: o.jobId, jobName: o.jobName, status, wallMs, inputBytes: this.#tasks.inputBytes, output: o.layout.output, tables: this.#tasks.tables, counters, userCounters, workerRss, events: this.#events, ...error });
  }

  // ── protocol handlers ────────────────────────────────────────────────────────────────────────

  register(req: { workerId: string; pid: number }): JobInfo {
    this.#workers.registered(req.workerId);
    this.#log(`worker ${req.workerId} registered (pid ${req.pid})`);
    return jobInfo(this.#o);
  }

  /** Long poll: a task for the worker, `wait` after LONG_POLL_MS with none, or `exit` at the end. */
  async next(req: { workerId: string }): Promise<NextResponse> {
    const deadline = this.#clock.now() + LONG_POLL_MS;
    let timedOut = false;
    for (;;) {
      const kind = this.#phases.taskKind;
      if (kind === undefined) {
        this.#workers.toldToExit(req.workerId);
        return { type: 'exit' };
      }
      const table = this.#tasks.tables[kind];
      const task = table.nextPending() ?? this.#backupFor(table.tasks, req.workerId);
      if (task !== undefined) {
        const attempt = table.assign(task, req.workerId, this.#clock.now());
        return { type: 'task', task: taskMessage(task, attempt, task.kind === 'map' ? this.#badRecords.skipList(task.index) : []) };
      }
      // Look once more when the wait times out: a straggler may have become worth a backup.
      const left = deadline - this.#clock.now();
      if (left <= 0 || timedOut) return { type: 'wait' };
      timedOut = !(await this.#changes.wait(left));
    }
  }

  heartbeat(req: z.infer<typeof HeartbeatRequestSchema>): { abort: boolean } {
    const found = this.#tasks.find(req.attemptId);
    if (found === undefined || found.attempt.state !== 'running' || found.attempt.workerId !== req.workerId) {
      return { abort: true };
    }
    found.attempt.lastHeartbeat = this.#clock.now();
    found.attempt.bytes = req.bytes;
    if (req.usage !== undefined) found.attempt.usage = req.usage;
    return { abort: false };
  }

  commit(req: z.infer<typeof CommitRequestSchema>): { commit: boolean; reason?: string } {
    const found = this.#tasks.find(req.attemptId);
    const reason = commitRefusal(found, req.workerId);
    if (reason !== undefined) {
      this.#log(`commit refused to ${req.attemptId} on ${req.workerId}: ${reason}`);
      return { commit: false, reason };
    }
    // The lease is renewed: the publish and the report that follow take a moment.
    if (found !== undefined) found.attempt.lastHeartbeat = this.#clock.now();
    return { commit: true };
  }

  done(req: z.infer<typeof DoneRequestSchema>): { ok: true } {
    this.#counters.noteRss(req.workerId, req.maxRssBytes);
    const found = this.#tasks.find(req.attemptId);
    // A late report from an attempt already declared lost is ignored: its task was re-queued.
    if (found === undefined || found.attempt.state !== 'running' || found.task.state !== 'running') {
      this.#log(`late report of ${req.attemptId} from ${req.workerId} ignored`);
      return { ok: true };
    }
    const { task, attempt } = found;
    const unnoted = this.#noteDone(task, req);
    if (unnoted !== undefined) {
      this.#log(unnoted.message);
      this.#completion.fail(unnoted);
      return { ok: true };
    }
    this.#log(`${taskName(task)} committed by ${attempt.id} on ${req.workerId}${req.committed ? '' : ' (its output was there already)'}`);
    // The first attempt to commit wins; the others (backups or originals) are stopped: local
    // workers are killed at once, pool workers learn it from their next heartbeat.
    for (const loser of this.#tasks.tables[task.kind].succeed(task, attempt, this.#clock.now())) {
      if (!this.#workers.selfManaged) this.#workers.stop(loser.workerId);
    }
    this.#counters.record(taskName(task), req.counters, req.userCounters);
    this.#completion.advance();
    return { ok: true };
  }

  failed(req: z.infer<typeof FailedRequestSchema>): { ok: true } {
    return this.#failAttempt(req);
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  #failAttempt(req: z.infer<typeof FailedRequestSchema>, cause?: LossCause): { ok: true } {
    this.#counters.noteRss(req.workerId, req.maxRssBytes);
    const found = this.#tasks.find(req.attemptId);
    if (found === undefined || found.attempt.state !== 'running') return { ok: true };
    const { task, attempt } = found;
    const { mapOutput } = req.error;
    if (task.kind === 'reduce' && mapOutput !== undefined) {
      mapOutputUnreadable(this.#rerunParts, task, attempt, { ...req.error, mapOutput });
      return { ok: true };
    }
    // In skip mode, failures charged to bad records come on top of the task's own attempts.
    const extra = this.#o.skipBadRecords === true && task.kind === 'map' ? this.#badRecords.charge(task.index, req.error) : 0;
    // An error no retry can fix (a bad parameter, a job without `map`): the task fails at this attempt.
    const maxFailures = req.error.retryable === false ? task.failures + 1 : this.#o.maxAttempts + extra;
    this.#tasks.tables[task.kind].fail(task, attempt, this.#clock.now(), req.error.message, maxFailures, cause);
    if (task.state === 'failed') this.#completion.fail(taskFailure(task, req.error));
    else this.#changes.notify();
    return { ok: true };
  }

  /**
   * Writes what a restarted master needs of a task just done (the setup's result, the task's
   * counters), before the task counts as done. Returns the job's error when it cannot (a full
   * storage); the task's output is then taken back, so that `--resume` runs the task again. Never
   * throws: `done` would answer 500, the worker would report again, find its attempt no longer
   * running, and the job would wait for ever (issue 20).
   */
  #noteDone(task: JobTask, req: z.infer<typeof DoneRequestSchema>): ErrorReport | undefined {
    try {
      if (task.kind === 'setup') saveSetupResult(this.#o.layout, req.setup);
      saveTaskCounters(this.#o.layout, taskName(task), { counters: req.counters, userCounters: req.userCounters, ...(req.part !== undefined ? { part: req.part } : {}), ...(req.named !== undefined ? { named: req.named } : {}) });
      return undefined;
    } catch (e) {
      try {
        unpublish(this.#o.layout, task);
      } catch (removal) {
        this.#log(`could not take back the output of ${taskName(task)}: ${(removal as Error).message}`);
      }
      return bookkeepingFailure(task, e);
    }
  }

  #backupFor(tasks: readonly JobTask[], workerId: string): JobTask | undefined {
    if (this.#o.backupTasks === false || this.#phases.current === 'setup') return undefined;
    return chooseBackup(tasks, workerId, this.#clock.now(), this.#o.heartbeatMs);
  }

}
