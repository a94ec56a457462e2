import type { z } from 'zod';
import type { ErrorReport, FailedRequestSchema } from '../protocol/messages.ts';
import type { Clock } from './clock.ts';
import type { JobTask, JobTasks } from './job-tasks.ts';
import { expiredAttempts } from './lease-expiry.ts';
import { describeLoss, exitCause, killedFromOutside, type LossCause } from './loss-cause.ts';
import { lostTooOften } from './lost-attempts.ts';
import { taskName } from './task-name.ts';
import type { WorkerPool } from './worker-pool.ts';

/** What the loss paths may do to the job; the master gives them this. */
export interface JobControl {
  readonly tasks: JobTasks;
  readonly workers: WorkerPool;
  readonly clock: Clock;
  /** Whether tasks are being handed out (not committing, not ended). */
  running(): boolean;
  /** Fails one attempt as its worker would have reported it. */
  failAttempt(req: z.infer<typeof FailedRequestSchema>, cause?: LossCause): void;
  /** Fails the whole job. */
  fail(error: ErrorReport): void;
  /** Something changed: long polls look again. */
  changed(): void;
  log(line: string): void;
}

/**
 * A worker ended (its launcher said so): its running attempts are lost (or failed, if it ran out
 * of memory), a task that keeps losing them fails the job, and the worker is replaced within the
 * pool's death budget. Called once per worker exit.
 */
export function workerExited(job: JobControl, workerId: string, code: number | null, signal: string | null, stderrTail: string): void {
  job.workers.exited(workerId);
  const cause = exitCause(workerId, code, signal);
  const why = describeLoss(cause);
  job.log(why);
  if (!job.running()) return;
  if (/heap out of memory|Allocation failed/.test(stderrTail)) {
    // Out of memory is the task's doing, not the worker's: fail (and retry) its attempts.
    const error = { code: 'TORPEDO_ERR_OUT_OF_MEMORY', message: `worker ${workerId} ran out of memory (JavaScript heap limit reached) and was stopped` } as const;
    for (const { attempt } of job.tasks.running(workerId)) job.failAttempt({ workerId, attemptId: attempt.id, maxRssBytes: 0, error });
  }
  for (const { table, task, attempt } of job.tasks.running(workerId)) {
    table.lose(task, attempt, job.clock.now(), cause);
    failIfLostTooOften(job, task, !killedFromOutside(cause));
  }
  job.changed();
  if (!job.workers.died(workerId, signal)) {
    job.fail({ code: 'TORPEDO_ERR_WORKER_LOST', message: `${why}; workers keep dying:\n${lastLines(stderrTail, 15)}` });
  }
}

/**
 * Ends the attempts whose time is up: one past the task time limit fails (it counts towards
 * --max-attempts), one whose worker went silent is lost. Either way the worker is replaced, so
 * that a hung task cannot take the pool down one worker at a time. Called every half lease.
 */
export function expireAttempts(job: JobControl, leaseTimeoutMs: number, taskTimeoutMs: number): void {
  const now = job.clock.now();
  for (const { running, cause } of expiredAttempts(job.tasks.running(), now, leaseTimeoutMs, taskTimeoutMs)) {
    const { table, task, attempt } = running;
    if (attempt.state !== 'running') continue;
    if (cause.kind === 'timeout') {
      // The worker is busy in user code that cannot be interrupted.
      const message = `${taskName(task)} attempt ${attempt.number} ${describeLoss(cause)}`;
      job.failAttempt({ workerId: attempt.workerId, attemptId: attempt.id, maxRssBytes: 0, error: { code: 'TORPEDO_ERR_TASK_TIMEOUT', message } }, cause);
      job.workers.stop(attempt.workerId);
    } else {
      table.lose(task, attempt, now, cause);
      job.log(`${taskName(task)} attempt ${attempt.id} lost: ${describeLoss(cause)}`);
      // The worker is stuck (or cut off). Its exit is counted as a death.
      job.workers.stop(attempt.workerId);
      failIfLostTooOften(job, task, true);
      job.changed();
    }
  }
}

function failIfLostTooOften(job: JobControl, task: JobTask, mayBeAtFault: boolean): void {
  const error = lostTooOften(task, mayBeAtFault);
  if (error !== undefined) job.fail(error);
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
