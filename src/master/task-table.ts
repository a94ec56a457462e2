import type { AttemptState, TaskState } from '../protocol/master-status.ts';
import type { AttemptUsage, TaskKind } from '../protocol/messages.ts';
import { attemptId } from '../protocol/task-names.ts';
import { describeLoss, type LossCause } from './loss-cause.ts';

/**
 * The master's record of every task and attempt of one job. All state changes go through
 * `transition`, which follows one table; an impossible transition throws with a diagnostic.
 *
 *   task:    pending ──reuse (output committed by an earlier master)──► done
 *            pending ──assign──► running ──succeed──► done (other running attempts: killed)
 *                                  │ ├──backup (a second attempt)──────────────► running
 *                                  │ ├──fail/lose (another attempt still runs)──► running
 *                                  │ ├──fail (attempts left)────► pending
 *                                  │ ├──fail (no attempts left)─► failed
 *                                  │ └──lose (worker died or lease expired)──► pending
 *            done ──redo (a reduce could not read its committed output)──► pending
 *   attempt: running ──► succeeded | failed | lost | killed
 */
// The states are part of the status file's contract (protocol/master-status.ts), defined there.
export type { AttemptState, TaskState } from '../protocol/master-status.ts';
export type TaskEvent = 'reuse' | 'assign' | 'backup' | 'succeed' | 'fail' | 'lose' | 'redo';

const TRANSITIONS: Readonly<Record<TaskState, Partial<Record<TaskEvent, readonly TaskState[]>>>> = {
  pending: { reuse: ['done'], assign: ['running'] },
  running: { backup: ['running'], succeed: ['done'], fail: ['running', 'pending', 'failed'], lose: ['running', 'pending'] },
  done: { redo: ['pending'] },
  failed: {},
};

export interface Attempt {
  readonly id: string;
  readonly number: number;
  readonly workerId: string;
  readonly startedAt: number;
  /** A second attempt started for a straggler (the paper's backup task). */
  readonly backup: boolean;
  state: AttemptState;
  lastHeartbeat: number;
  bytes: number;
  /** The last CPU time and RSS its worker reported in a heartbeat. */
  usage?: AttemptUsage;
  endedAt?: number;
  /** What people are shown: the worker's error, or the loss described. */
  error?: string;
  /** Why a lost (or timed-out) attempt ended; what the master's decisions read. */
  cause?: LossCause;
}

export interface TaskRecord<P = unknown> {
  readonly kind: TaskKind;
  readonly index: number;
  readonly payload: P;
  state: TaskState;
  readonly attempts: Attempt[];
  failures: number;
  /** Done from an earlier run's committed output (`--resume`), not by an attempt of this one. */
  reused: boolean;
  /** Times it was run again because its committed output was found unreadable. */
  reruns: number;
  /** When its output was committed (master clock), if by an attempt of this master. */
  committedAt?: number;
}

export class TaskTable<P = unknown> {
  readonly tasks: TaskRecord<P>[];
  readonly #byAttempt = new Map<string, { task: TaskRecord<P>; attempt: Attempt }>();

  constructor(kind: TaskKind, payloads: readonly P[]) {
    this.tasks = payloads.map((payload, index) => ({ kind, index, payload, state: 'pending', attempts: [], failures: 0, reused: false, reruns: 0 }));
  }

  get done(): number {
    return this.tasks.filter((t) => t.state === 'done').length;
  }

  get finished(): boolean {
    return this.tasks.every((t) => t.state === 'done');
  }

  nextPending(): TaskRecord<P> | undefined {
    return this.tasks.find((t) => t.state === 'pending');
  }

  lookup(attemptId: string): { task: TaskRecord<P>; attempt: Attempt } | undefined {
    return this.#byAttempt.get(attemptId);
  }

  /** pending → running, with a new attempt on `workerId`; or, for a running task, a backup attempt. */
  assign(task: TaskRecord<P>, workerId: string, now: number): Attempt {
    const backup = task.state === 'running';
    this.#transition(task, backup ? 'backup' : 'assign', 'running');
    const number = task.attempts.length;
    const attempt: Attempt = {
      id: attemptId(task, number),
      number,
      workerId,
      startedAt: now,
      backup,
      state: 'running',
      lastHeartbeat: now,
      bytes: 0,
    };
    task.attempts.push(attempt);
    this.#byAttempt.set(attempt.id, { task, attempt });
    return attempt;
  }

  /** pending → done: an earlier master's attempt committed this task's output. */
  reuse(task: TaskRecord<P>): void {
    this.#transition(task, 'reuse', 'done');
    task.reused = true;
  }

  /** The attempt committed: the task is done. Returns its other attempts that were running, now killed. */
  succeed(task: TaskRecord<P>, attempt: Attempt, now: number): Attempt[] {
    this.#end(attempt, 'succeeded', now);
    this.#transition(task, 'succeed', 'done');
    task.committedAt = now;
    const losers = task.attempts.filter((a) => a.state === 'running');
    for (const a of losers) this.#end(a, 'killed', now);
    return losers;
  }

  /** done → pending: its committed output turned out unreadable; it must run again. */
  redo(task: TaskRecord<P>): void {
    this.#transition(task, 'redo', 'pending');
    task.reruns++;
    task.reused = false;
    delete task.committedAt;
  }

  /** Running attempts of a task, for backups. */
  running(task: TaskRecord<P>): Attempt[] {
    return task.attempts.filter((a) => a.state === 'running');
  }

  fail(task: TaskRecord<P>, attempt: Attempt, now: number, error: string, maxFailures: number, cause?: LossCause): void {
    this.#end(attempt, 'failed', now);
    attempt.error = error;
    if (cause !== undefined) attempt.cause = cause;
    task.failures++;
    const others = this.running(task).length > 0;
    this.#transition(task, 'fail', task.failures >= maxFailures ? 'failed' : others ? 'running' : 'pending');
  }

  /**
   * The attempt failed for a reason that is not the task's (its input must be made again): it
   * ends as failed, and the task runs again without counting towards its attempts.
   */
  requeue(task: TaskRecord<P>, attempt: Attempt, now: number, error: string): void {
    this.#end(attempt, 'failed', now);
    attempt.error = error;
    this.#transition(task, 'fail', this.running(task).length > 0 ? 'running' : 'pending');
  }

  lose(task: TaskRecord<P>, attempt: Attempt, now: number, cause: LossCause): void {
    this.#end(attempt, 'lost', now);
    attempt.error = describeLoss(cause);
    attempt.cause = cause;
    this.#transition(task, 'lose', this.running(task).length > 0 ? 'running' : 'pending');
  }

  #end(attempt: Attempt, state: AttemptState, now: number): void {
    if (attempt.state !== 'running') {
      throw new Error(`attempt ${attempt.id}: cannot end as ${state}, it is already ${attempt.state}`);
    }
    attempt.state = state;
    attempt.endedAt = now;
  }

  #transition(task: TaskRecord<P>, event: TaskEvent, to: TaskState): void {
    const allowed = TRANSITIONS[task.state][event];
    if (allowed === undefined || !allowed.includes(to)) {
      throw new Error(`task ${task.kind}-${task.index}: no transition '${event}' from ${task.state} to ${to}`);
    }
    task.state = to;
  }
}
