import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.ts';
import type { Split } from '../input/splits.ts';
import type { Launcher } from '../launcher/launcher.ts';
import type { StreamingSpec } from '../streaming/streaming-spec.ts';
import {
  PROTOCOL_VERSION,
  type CommitRequestSchema,
  type DoneRequestSchema,
  type ErrorReport,
  type FailedRequestSchema,
  type HeartbeatRequestSchema,
  type JobInfo,
  type NextResponse,
  type TaskKind,
} from '../protocol/messages.ts';
import { commitJob } from './commit-job.ts';
import { mapOutputPath, partName, reducePartPath, type JobLayout } from './job-layout.ts';
import { MasterServer, type ProtocolHandlers } from './master-server.ts';
import { TaskTable, type AttemptState, type TaskRecord, type TaskState } from './task-table.ts';
import { summarize, type JobSummary } from './job-summary.ts';

export interface MasterOptions {
  readonly jobId: string;
  readonly jobName: string;
  readonly layout: JobLayout;
  readonly splits: readonly Split[];
  readonly reducers: number;
  readonly workers: number;
  readonly memoryBytes: number;
  readonly maxRecordBytes: number;
  readonly params: Readonly<Record<string, string>>;
  readonly hasSetup: boolean;
  readonly maxAttempts: number;
  /** Start backup attempts of stragglers when a phase has nothing left to hand out (default true). */
  readonly backupTasks?: boolean;
  /** Skip a map record after it made user code throw twice (the paper's section 4.6). */
  readonly skipBadRecords?: boolean;
  readonly heartbeatMs: number;
  readonly leaseTimeoutMs: number;
  /** An attempt running longer than this is failed and its worker replaced (0: no limit). */
  readonly taskTimeoutMs?: number;
  /** A streaming job's commands (Hadoop Streaming); workers run them instead of the bundle. */
  readonly streaming?: StreamingSpec;
  /** Address to listen on; loopback by default. */
  readonly listenHost?: string;
  /** Port to listen on; any free port by default. */
  readonly listenPort?: number;
  /** The URL workers are given, when it differs from the listening address (0.0.0.0, a pod IP). */
  readonly advertiseUrl?: string;
  /** The per-job secret workers present; random by default. */
  readonly token?: string;
  /** Where the master says what it decides (registrations, losses, commits); silent by default. */
  readonly log?: (line: string) => void;
}

export type Phase = 'setup' | 'map' | 'reduce' | 'commit' | 'succeeded' | 'failed';

export interface TaskSnapshot {
  readonly kind: TaskKind;
  readonly index: number;
  readonly state: TaskState;
  readonly reused: boolean;
  /** Map tasks: the bytes of input the task reads. */
  readonly bytes?: number;
  readonly attempts: readonly {
    readonly id: string;
    readonly worker: string;
    readonly state: AttemptState;
    readonly backup: boolean;
    readonly startedAt: number;
    readonly endedAt?: number;
    readonly error?: string;
  }[];
}

export interface JobSnapshot {
  readonly phase: Phase;
  readonly phases: Readonly<Record<TaskKind, { readonly done: number; readonly total: number }>>;
  readonly mapBytes: number;
  readonly inputBytes: number;
  readonly tasks: readonly TaskSnapshot[];
  readonly counters: Readonly<Record<string, number>>;
  readonly userCounters: Readonly<Record<string, number>>;
}

export interface Progress {
  readonly phase: Phase;
  /** Tasks of the current phase. */
  readonly done: number;
  readonly total: number;
  /** Tasks done and in all, per phase. */
  readonly phases: Readonly<Record<TaskKind, { readonly done: number; readonly total: number }>>;
  /** Input bytes read by map attempts, finished and running. */
  readonly mapBytes: number;
  readonly inputBytes: number;
}

const LONG_POLL_MS = 1000;
/** Hard cap on worker replacements, per worker of the pool, whatever killed them. */
const MAX_DEATHS_PER_WORKER = 100;
/** A task is not backed up before it has run this long, however quick its peers were. */
const MIN_BACKUP_AFTER_MS = 1000;
/** Skip mode: how many bad records one map task may skip. */
const MAX_BAD_RECORDS = 100;
/** Attempts of one task lost to dead or silent workers before the job fails. */
const LOST_ATTEMPTS_LIMIT = 4;
/** The same, counting workers killed from outside (SIGKILL) too. */
const LOST_ATTEMPTS_LIMIT_ANY_CAUSE = 12;
/** At the end of a job, how long workers get to leave on their own before they are killed. */
const STOP_GRACE_MS = 300;

/**
 * One job's coordinator: hands out tasks phase by phase (setup → map → reduce), re-runs failed
 * and lost attempts, replaces dead workers, and commits the job when every task has committed.
 */
export class Master implements ProtocolHandlers {
  readonly #o: MasterOptions;
  readonly #launcher: Launcher;
  /** A pool launcher (startPool): the workers name themselves and nobody here replaces them. */
  readonly #pool: boolean;
  readonly #token: string;
  readonly #log: (line: string) => void;
  readonly #server: MasterServer;
  readonly #tables: Record<TaskKind, TaskTable<unknown>>;
  readonly #counters: Record<string, number> = {};
  readonly #userCounters: Record<string, number> = {};
  readonly #workerRss = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  /** Skip mode: per map task, failures per record offset. */
  readonly #badRecords = new Map<number, Map<number, number>>();
  #phase: Phase;
  #url = '';
  #error: ErrorReport | undefined;
  #workerSeq = 0;
  #workerDeaths = 0;
  #allDeaths = 0;
  readonly #registered = new Set<string>();
  readonly #live = new Set<string>();
  /** Workers answered `exit` once the job ended. */
  readonly #toldToExit = new Set<string>();
  #finished: (() => void) | undefined;
  #committing = false;
  readonly #startedAt = Date.now();

  constructor(options: MasterOptions, launcher: Launcher) {
    this.#o = options;
    this.#launcher = launcher;
    this.#pool = launcher.startWorker === undefined;
    this.#token = options.token ?? randomBytes(24).toString('base64url');
    this.#log = options.log ?? (() => {});
    this.#server = new MasterServer(this.#token, this);
    this.#tables = {
      setup: new TaskTable<unknown>('setup', options.hasSetup ? [wholeFiles(options.splits)] : []),
      map: new TaskTable<unknown>('map', options.splits),
      reduce: new TaskTable<unknown>('reduce', Array.from({ length: options.reducers }, () => null)),
    };
    this.#phase = options.hasSetup ? 'setup' : 'map';
  }

  get phase(): Phase {
    return this.#phase;
  }

  progress(): Progress {
    const phase = this.#phase;
    const table = phase === 'setup' || phase === 'map' || phase === 'reduce' ? this.#tables[phase] : this.#tables.reduce;
    let mapBytes = 0;
    for (const t of this.#tables.map.tasks) {
      const split = t.payload as Split;
      if (t.state === 'done') mapBytes += split.end - split.start;
      else mapBytes += Math.min(split.end - split.start, Math.max(0, ...t.attempts.filter((a) => a.state === 'running').map((a) => a.bytes)));
    }
    const inputBytes = this.#o.splits.reduce((s, x) => s + x.end - x.start, 0);
    const phases = {} as Record<TaskKind, { done: number; total: number }>;
    for (const kind of ['setup', 'map', 'reduce'] as const) phases[kind] = { done: this.#tables[kind].done, total: this.#tables[kind].tasks.length };
    return { phase, done: table.done, total: table.tasks.length, phases, mapBytes, inputBytes };
  }

  /** Every task with its attempts, for a live task table (the manager's GET /jobs/:id). */
  snapshot(): JobSnapshot {
    const tasks: TaskSnapshot[] = [];
    for (const kind of ['setup', 'map', 'reduce'] as const) {
      for (const t of this.#tables[kind].tasks) {
        tasks.push({
          kind,
          index: t.index,
          state: t.state,
          reused: t.reused,
          ...(kind === 'map' ? { bytes: (t.payload as Split).end - (t.payload as Split).start } : {}),
          attempts: t.attempts.map((a) => ({
            id: a.id,
            worker: a.workerId,
            state: a.state,
            backup: a.backup,
            startedAt: a.startedAt,
            ...(a.endedAt !== undefined ? { endedAt: a.endedAt } : {}),
            ...(a.error !== undefined ? { error: a.error } : {}),
          })),
        });
      }
    }
    const p = this.progress();
    return { phase: p.phase, phases: p.phases, mapBytes: p.mapBytes, inputBytes: p.inputBytes, tasks, counters: { ...this.#counters }, userCounters: { ...this.#userCounters } };
  }

  /**
   * Ends the job now, as failed with `error` (e.g. TORPEDO_ERR_CANCELLED); `run()` then stops the
   * workers and resolves. Committed task outputs stay, so a later `--resume` can go on from them.
   * Idempotent; ignored once the job has ended.
   */
  abort(error: ErrorReport): void {
    this.#fail(error);
  }

  /** Runs the job to the end; resolves with its summary whether it succeeded or failed. */
  async run(): Promise<JobSummary> {
    const socket = this.#launcher.masterSocket;
    const listening = socket !== undefined ? await this.#server.listenSocket(socket.path, socket.owner) : await this.#server.listen(this.#o.listenHost, this.#o.listenPort);
    this.#url = socket?.url ?? this.#o.advertiseUrl ?? listening;
    this.#log(`job ${this.#o.jobId}: listening on ${listening}; workers connect to ${this.#url}`);
    const finished = new Promise<void>((resolve) => (this.#finished = resolve));
    this.#launcher.onExit = (id, info) => this.#onWorkerExit(id, info.code, info.signal, info.stderrTail);
    const checkMs = Math.min(1000, this.#o.leaseTimeoutMs / 2, (this.#o.taskTimeoutMs ?? 0) > 0 ? (this.#o.taskTimeoutMs as number) / 2 : Infinity);
    const lease = setInterval(() => this.#expireLeases(), checkMs);
    try {
      if (this.#phase === 'failed') {
        this.#finished?.(); // aborted before it started
      } else {
        this.#adoptCommitted();
        this.#advance();
        if (this.#launcher.startPool !== undefined) await this.#launcher.startPool(this.#o.workers, this.#url, this.#token);
        else for (let i = 0; i < this.#o.workers; i++) this.#startWorker();
      }
      await finished;
    } finally {
      clearInterval(lease);
      this.#wake();
      if (this.#pool) await this.#drainPool();
      await this.#launcher.stopAll(STOP_GRACE_MS);
      await this.#server.close();
    }
    return summarize({
      jobId: this.#o.jobId,
      jobName: this.#o.jobName,
      status: this.#phase === 'succeeded' ? 'succeeded' : 'failed',
      wallMs: Date.now() - this.#startedAt,
      inputBytes: this.progress().inputBytes,
      output: this.#o.layout.output,
      tables: this.#tables,
      counters: this.#counters,
      userCounters: this.#userCounters,
      workerRss: this.#workerRss,
      ...(this.#error ? { error: this.#error } : {}),
    });
  }

  // ── protocol handlers ────────────────────────────────────────────────────────────────────────

  /** The URL workers connect to (known once `run` listens). */
  get url(): string {
    return this.#url;
  }

  register(req: { workerId: string; pid: number }): JobInfo {
    this.#registered.add(req.workerId);
    // A pool launcher's workers name themselves: they are live from their first word.
    if (this.#pool) this.#live.add(req.workerId);
    this.#log(`worker ${req.workerId} registered (pid ${req.pid})`);
    return {
      protocol: PROTOCOL_VERSION,
      jobId: this.#o.jobId,
      jobName: this.#o.jobName,
      bundle: this.#o.layout.bundle,
      workDir: this.#o.layout.workDir,
      reducers: this.#o.reducers,
      maps: this.#o.splits.length,
      params: { ...this.#o.params },
      memoryBytes: this.#o.memoryBytes,
      maxRecordBytes: this.#o.maxRecordBytes,
      heartbeatMs: this.#o.heartbeatMs,
      masterTimeoutMs: 2 * this.#o.leaseTimeoutMs,
      ...(this.#o.streaming !== undefined ? { streaming: this.#o.streaming } : {}),
    };
  }

  async next(req: { workerId: string }): Promise<NextResponse> {
    const deadline = Date.now() + LONG_POLL_MS;
    for (;;) {
      if (this.#phase === 'succeeded' || this.#phase === 'failed' || this.#phase === 'commit') {
        this.#toldToExit.add(req.workerId);
        return { type: 'exit' };
      }
      const table = this.#tables[this.#phase];
      const task = table.nextPending() ?? this.#straggler(table, req.workerId);
      if (task !== undefined) {
        const attempt = table.assign(task, req.workerId, Date.now());
        return {
          type: 'task',
          task: {
            attemptId: attempt.id,
            kind: task.kind,
            index: task.index,
            attempt: attempt.number,
            ...(task.kind === 'map' ? { split: task.payload as Split, ...this.#skipList(task) } : {}),
            ...(task.kind === 'setup' ? { splits: task.payload as Split[] } : {}),
          },
        };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { type: 'wait' };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  heartbeat(req: z.infer<typeof HeartbeatRequestSchema>): { abort: boolean } {
    const found = this.#find(req.attemptId);
    if (found === undefined || found.attempt.state !== 'running' || found.attempt.workerId !== req.workerId) {
      return { abort: true };
    }
    found.attempt.lastHeartbeat = Date.now();
    found.attempt.bytes = req.bytes;
    return { abort: false };
  }

  commit(req: z.infer<typeof CommitRequestSchema>): { commit: boolean; reason?: string } {
    const found = this.#find(req.attemptId);
    const reason = commitRefusal(found, req.workerId);
    if (reason !== undefined) {
      this.#log(`commit refused to ${req.attemptId} on ${req.workerId}: ${reason}`);
      return { commit: false, reason };
    }
    // The lease is renewed: the publish and the report that follow take a moment.
    if (found !== undefined) found.attempt.lastHeartbeat = Date.now();
    return { commit: true };
  }

  done(req: z.infer<typeof DoneRequestSchema>): { ok: true } {
    this.#noteRss(req.workerId, req.maxRssBytes);
    const found = this.#find(req.attemptId);
    // A late report from an attempt already declared lost is ignored: its task was re-queued.
    if (found === undefined || found.attempt.state !== 'running' || found.task.state !== 'running') {
      this.#log(`late report of ${req.attemptId} from ${req.workerId} ignored`);
      return { ok: true };
    }
    const { task, attempt } = found;
    if (task.kind === 'setup') {
      writeFileSync(this.#o.layout.setup, JSON.stringify(req.setup ?? null));
      // Readable by the job's workers (they load it; they may run as a uid of their own), whatever this process's umask.
      chmodSync(this.#o.layout.setup, 0o644);
    }
    this.#log(`${taskName(task)} committed by ${attempt.id} on ${req.workerId}${req.committed ? '' : ' (its output was there already)'}`);
    // The first attempt to commit wins; the others (backups or originals) are stopped: local
    // workers are killed at once, pool workers learn it from their next heartbeat.
    for (const loser of this.#tables[task.kind].succeed(task, attempt, Date.now())) {
      if (!this.#pool) this.#launcher.stopWorker(loser.workerId);
    }
    saveCounters(this.#o.layout, taskName(task), req.counters, req.userCounters);
    addInto(this.#counters, req.counters);
    addInto(this.#userCounters, req.userCounters);
    this.#advance();
    return { ok: true };
  }

  failed(req: z.infer<typeof FailedRequestSchema>): { ok: true } {
    this.#noteRss(req.workerId, req.maxRssBytes);
    const found = this.#find(req.attemptId);
    if (found === undefined || found.attempt.state !== 'running') return { ok: true };
    const { task, attempt } = found;
    const table = this.#tables[task.kind];
    table.fail(task, attempt, Date.now(), req.error.message, this.#o.maxAttempts + this.#recordFailureAllowance(task, req.error));
    if (task.state === 'failed') {
      const tries = task.failures;
      this.#fail({ ...req.error, message: `${taskName(task)} failed ${tries} time${tries === 1 ? '' : 's'}; last error: ${req.error.message}` });
    } else {
      this.#wake();
    }
    return { ok: true };
  }

  /**
   * In skip mode, a failure that names a map record is charged to that record: each bad record
   * may fail twice (then it is skipped) on top of the task's own attempts, for up to
   * MAX_BAD_RECORDS records per task. Returns the extra failures the task may have.
   */
  #recordFailureAllowance(task: TaskRecord<unknown>, error: ErrorReport): number {
    if (this.#o.skipBadRecords !== true || task.kind !== 'map') return 0;
    let bad = this.#badRecords.get(task.index);
    if (bad === undefined) this.#badRecords.set(task.index, (bad = new Map()));
    if (error.code === 'TORPEDO_ERR_USER_CODE' && error.offset !== undefined) bad.set(error.offset, (bad.get(error.offset) ?? 0) + 1);
    let allowance = 0;
    for (const failures of [...bad.values()].slice(0, MAX_BAD_RECORDS)) allowance += Math.min(failures, 2);
    return allowance;
  }

  /**
   * Restart logic (`--resume`, and a master restarted by Kubernetes): every task whose output an
   * earlier master's attempt committed is done already; only the rest is scheduled. Its counters
   * come from the file the earlier master wrote when it learned of the commit.
   */
  #adoptCommitted(): void {
    const { layout } = this.#o;
    const committed = (task: TaskRecord<unknown>): boolean => {
      if (task.kind === 'setup') return existsSync(layout.setup);
      if (task.kind === 'map') return existsSync(mapOutputPath(layout, task.index));
      // A reduce part is committed in _temporary/reduce/, or already moved by a job commit.
      return existsSync(reducePartPath(layout, task.index)) || existsSync(join(layout.output, partName(task.index)));
    };
    for (const table of Object.values(this.#tables)) {
      for (const task of table.tasks) {
        if (!committed(task)) continue;
        table.reuse(task);
        const saved = loadCounters(layout, taskName(task));
        addInto(this.#counters, saved.counters);
        addInto(this.#userCounters, saved.userCounters);
      }
    }
  }

  /**
   * A task worth a backup attempt on `workerId`: it runs on one attempt only, elsewhere, has run
   * for at least a second, and is projected to take more than twice the median time of the
   * phase's finished attempts — projected from its progress (input bytes read, reported with
   * heartbeats) for a map, from its elapsed time for a reduce. The one projected to end last is
   * chosen. Asked only when the phase has no pending task left.
   */
  #straggler(table: TaskTable<unknown>, workerId: string): TaskRecord<unknown> | undefined {
    if (this.#o.backupTasks === false || this.#phase === 'setup') return undefined;
    const durations = table.tasks
      .flatMap((t) => t.attempts)
      .filter((a) => a.state === 'succeeded')
      .map((a) => (a.endedAt as number) - a.startedAt)
      .sort((a, b) => a - b);
    if (durations.length === 0) return undefined;
    const median = durations[Math.floor(durations.length / 2)] as number;
    const now = Date.now();
    let best: TaskRecord<unknown> | undefined;
    let latest = 2 * median;
    for (const t of table.tasks) {
      if (t.state !== 'running') continue;
      const running = table.running(t);
      const only = running[0];
      if (running.length !== 1 || only === undefined || only.workerId === workerId) continue;
      const elapsed = now - only.startedAt;
      if (elapsed < Math.max(MIN_BACKUP_AFTER_MS, median / 2)) continue;
      let projected = elapsed;
      if (t.kind === 'map') {
        const split = t.payload as Split;
        const fraction = only.bytes / Math.max(1, split.end - split.start);
        // No bytes yet: stuck if it has been silent for two heartbeats, else too early to tell.
        projected = fraction > 0 ? elapsed / Math.min(1, fraction) : elapsed > 2 * this.#o.heartbeatMs ? Infinity : elapsed;
      }
      if (projected > latest) {
        latest = projected;
        best = t;
      }
    }
    return best;
  }

  /** The records of a map task that failed twice: its next attempt skips them. */
  #skipList(task: TaskRecord<unknown>): { skip?: number[] } {
    const bad = this.#badRecords.get(task.index);
    if (bad === undefined) return {};
    const skip = [...bad].filter(([, failures]) => failures >= 2).map(([offset]) => offset);
    return skip.length > 0 ? { skip } : {};
  }

  #noteRss(workerId: string, bytes: number): void {
    this.#workerRss.set(workerId, Math.max(this.#workerRss.get(workerId) ?? 0, bytes));
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  #find(attemptId: string): ReturnType<TaskTable<unknown>['lookup']> {
    for (const t of Object.values(this.#tables)) {
      const f = t.lookup(attemptId);
      if (f !== undefined) return f;
    }
    return undefined;
  }

  /** Moves to the next phase when the current one is complete; commits the job at the end. */
  #advance(): void {
    while ((this.#phase === 'setup' || this.#phase === 'map' || this.#phase === 'reduce') && this.#tables[this.#phase].finished) {
      this.#phase = this.#phase === 'setup' ? 'map' : this.#phase === 'map' ? 'reduce' : 'commit';
    }
    this.#wake();
    if (this.#phase === 'commit' && !this.#committing) {
      this.#committing = true;
      void this.#commit();
    }
  }

  /**
   * Job commit. Local workers run users' code under a uid of their own, in the directories this
   * commit moves and removes: none may be running while it does (a worker could swap a checked
   * entry for a link). They have been told to exit; those that linger are killed. A pool's
   * workers (pods) are not ours to stop, and run as the master's own uid.
   */
  async #commit(): Promise<void> {
    if (!this.#pool) await this.#launcher.stopAll(STOP_GRACE_MS);
    if (this.#phase !== 'commit') return; // aborted meanwhile
    try {
      commitJob(this.#o.layout, this.#o.reducers);
      this.#phase = 'succeeded';
    } catch (e) {
      this.#fail({ code: 'TORPEDO_ERR_TASK_FAILED', message: `job commit failed: ${(e as Error).message}` });
    }
    this.#wake();
    this.#finished?.();
  }

  /**
   * A pool's workers are not ours to stop: keep answering until each live one has been told to
   * exit (they ask within a long poll, or after their current attempt is refused), for at most a
   * few heartbeats.
   */
  async #drainPool(): Promise<void> {
    const until = Date.now() + Math.max(2 * LONG_POLL_MS, 3 * this.#o.heartbeatMs);
    while (Date.now() < until && [...this.#live].some((w) => !this.#toldToExit.has(w))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  #fail(error: ErrorReport): void {
    if (this.#phase === 'failed' || this.#phase === 'succeeded') return;
    this.#error = error;
    this.#phase = 'failed';
    this.#wake();
    this.#finished?.();
  }

  #wake(): void {
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  #startWorker(): void {
    if (this.#launcher.startWorker === undefined) return; // a pool launcher keeps its own numbers up
    const id = `w${++this.#workerSeq}`;
    this.#live.add(id);
    this.#launcher.startWorker(id, this.#url, this.#token);
  }

  #onWorkerExit(workerId: string, code: number | null, signal: string | null, stderrTail: string): void {
    this.#live.delete(workerId);
    const why = `worker ${workerId} exited (${signal ?? `code ${code}`})`;
    this.#log(why);
    if (this.#phase === 'commit' || this.#phase === 'succeeded' || this.#phase === 'failed') return;
    if (/heap out of memory|Allocation failed/.test(stderrTail)) {
      // Out of memory is the task's doing, not the worker's: fail (and retry) its attempts.
      this.#failAttemptsOf(workerId, {
        code: 'TORPEDO_ERR_OUT_OF_MEMORY',
        message: `worker ${workerId} ran out of memory (JavaScript heap limit reached) and was stopped`,
      });
    }
    // A SIGKILL comes from outside (an operator, the OOM killer, a node going away), not from the
    // task: it does not count towards the task's limit of lost attempts.
    this.#loseAttemptsOf(workerId, why, signal !== 'SIGKILL');
    // Workers that keep dying on their own (they cannot start, or the job kills them) would be
    // replaced forever: stop once such deaths far outnumber the work, and say why. A registered
    // worker killed by SIGKILL was stopped from outside (or by this master) and does not count,
    // but every death counts towards a hard cap.
    const counts = signal !== 'SIGKILL' || !this.#registered.has(workerId);
    if (counts) this.#workerDeaths++;
    this.#allDeaths++;
    const budget = 3 * this.#o.workers + this.#o.splits.length + this.#o.reducers;
    if (this.#workerDeaths > budget || this.#allDeaths > MAX_DEATHS_PER_WORKER * this.#o.workers + budget) {
      this.#fail({ code: 'TORPEDO_ERR_WORKER_LOST' satisfies ErrorCode, message: `${why}; workers keep dying:\n${lastLines(stderrTail, 15)}` });
      return;
    }
    if (this.#live.size < this.#o.workers) this.#startWorker();
  }

  #failAttemptsOf(workerId: string, error: ErrorReport): void {
    for (const table of Object.values(this.#tables)) {
      for (const task of table.tasks) {
        for (const a of task.attempts) {
          if (a.state === 'running' && a.workerId === workerId) this.failed({ workerId, attemptId: a.id, maxRssBytes: 0, error });
        }
      }
    }
  }

  #loseAttemptsOf(workerId: string, why: string, taskMayBeAtFault: boolean): void {
    const now = Date.now();
    for (const table of Object.values(this.#tables)) {
      for (const task of table.tasks) {
        for (const a of task.attempts) {
          if (a.state === 'running' && a.workerId === workerId) {
            table.lose(task, a, now, why);
            this.#checkLostTooOften(task, taskMayBeAtFault);
          }
        }
      }
    }
    this.#wake();
  }

  /**
   * A task whose attempts keep getting lost fails the job: after LOST_ATTEMPTS_LIMIT losses that
   * may be its own doing (it crashed or hung its worker), or after LOST_ATTEMPTS_LIMIT_ANY_CAUSE
   * of any cause — a SIGKILL from outside (an operator, the OOM killer) is usually not the task's
   * doing, but a task that draws one every time must not be retried forever either.
   */
  #checkLostTooOften(task: TaskRecord<unknown>, taskMayBeAtFault = true): void {
    const lost = task.attempts.filter((a) => a.state === 'lost');
    const itsOwn = lost.filter((a) => !(a.error ?? '').endsWith('(SIGKILL)'));
    const last = lost[lost.length - 1]?.error ?? '';
    if (taskMayBeAtFault && itsOwn.length >= LOST_ATTEMPTS_LIMIT) {
      this.#fail({ code: 'TORPEDO_ERR_WORKER_LOST', message: `${taskName(task)} lost its worker ${itsOwn.length} times (last: ${last}); it may crash or hang the worker` });
    } else if (lost.length >= LOST_ATTEMPTS_LIMIT_ANY_CAUSE) {
      this.#fail({ code: 'TORPEDO_ERR_WORKER_LOST', message: `${taskName(task)} lost its worker ${lost.length} times (last: ${last}); something keeps killing the workers that run it` });
    }
  }

  #expireLeases(): void {
    const now = Date.now();
    const timeout = this.#o.taskTimeoutMs ?? 0;
    for (const table of Object.values(this.#tables)) {
      for (const task of table.tasks) {
        for (const a of task.attempts) {
          if (a.state === 'running' && timeout > 0 && now - a.startedAt > timeout) {
            // The worker is busy in user code that cannot be interrupted: fail the attempt (it
            // counts towards --max-attempts) and replace the worker.
            const message = `${taskName(task)} attempt ${a.number} ran longer than the task timeout (${timeout} ms) on ${a.workerId}`;
            this.failed({ workerId: a.workerId, attemptId: a.id, maxRssBytes: 0, error: { code: 'TORPEDO_ERR_TASK_TIMEOUT', message } });
            this.#launcher.stopWorker(a.workerId);
            continue;
          }
          if (a.state === 'running' && now - a.lastHeartbeat > this.#o.leaseTimeoutMs) {
            table.lose(task, a, now, `no heartbeat from ${a.workerId} for ${this.#o.leaseTimeoutMs} ms`);
            this.#log(`${taskName(task)} attempt ${a.id} lost: no heartbeat from ${a.workerId} for ${this.#o.leaseTimeoutMs} ms`);
            // A worker that stopped heartbeating is stuck (or cut off): replace it, so that a hung
            // task cannot take the pool down one worker at a time. Its exit is counted as a death.
            this.#launcher.stopWorker(a.workerId);
            this.#checkLostTooOften(task);
            this.#wake();
          }
        }
      }
    }
  }
}

/** Why an attempt may not publish its output (fencing), or undefined if it may. */
function commitRefusal(found: ReturnType<TaskTable<unknown>['lookup']>, workerId: string): string | undefined {
  if (found === undefined) return 'this master does not know the attempt (it may have restarted)';
  const { task, attempt } = found;
  if (attempt.workerId !== workerId) return `the attempt belongs to ${attempt.workerId}`;
  if (task.state === 'done') return 'the task has been committed by another attempt';
  if (attempt.state !== 'running') return `the attempt is ${attempt.state}${attempt.error !== undefined ? ` (${attempt.error})` : ''}`;
  return undefined;
}

/** One range per input file, covering it whole: what the setup task samples from. */
function wholeFiles(splits: readonly Split[]): Split[] {
  const ends = new Map<string, number>();
  for (const s of splits) ends.set(s.file, Math.max(ends.get(s.file) ?? 0, s.end));
  return [...ends].map(([file, end]) => ({ file, start: 0, end }));
}

function saveCounters(layout: JobLayout, task: string, counters: Record<string, number>, userCounters: Record<string, number>): void {
  mkdirSync(layout.counters, { recursive: true });
  const path = join(layout.counters, `${task}.json`);
  writeFileSync(`${path}.tmp`, JSON.stringify({ counters, userCounters }));
  renameSync(`${path}.tmp`, path);
}

function loadCounters(layout: JobLayout, task: string): { counters: Record<string, number>; userCounters: Record<string, number> } {
  try {
    return JSON.parse(readFileSync(join(layout.counters, `${task}.json`), 'utf8')) as ReturnType<typeof loadCounters>;
  } catch {
    return { counters: {}, userCounters: {} }; // committed, but the earlier master died before noting it
  }
}

function taskName(task: TaskRecord<unknown>): string {
  return `${task.kind}-${String(task.index).padStart(5, '0')}`;
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
