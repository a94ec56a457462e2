import type { ErrorReport } from '../protocol/messages.ts';
import type { JobTask } from './job-tasks.ts';
import { killedFromOutside } from './loss-cause.ts';
import { taskName } from './task-name.ts';

/** Attempts of one task lost to dead or silent workers before the job fails. */
export const LOST_ATTEMPTS_LIMIT = 4;
/** The same, counting workers killed from outside (SIGKILL) too. */
export const LOST_ATTEMPTS_LIMIT_ANY_CAUSE = 12;

/**
 * Why the job must fail because `task` keeps losing its attempts, or undefined. A task fails the
 * job after LOST_ATTEMPTS_LIMIT losses that may be its own doing (it crashed or hung its worker),
 * or after LOST_ATTEMPTS_LIMIT_ANY_CAUSE of any cause: a SIGKILL from outside (an operator, the
 * OOM killer) is usually not the task's doing, but a task that draws one every time must not be
 * retried forever either. `mayBeAtFault`: the loss just seen may be the task's doing.
 */
export function lostTooOften(task: JobTask, mayBeAtFault: boolean): ErrorReport | undefined {
  const lost = task.attempts.filter((a) => a.state === 'lost');
  const itsOwn = lost.filter((a) => a.cause === undefined || !killedFromOutside(a.cause));
  const last = lost[lost.length - 1]?.error ?? '';
  if (mayBeAtFault && itsOwn.length >= LOST_ATTEMPTS_LIMIT) {
    return { code: 'TORPEDO_ERR_WORKER_LOST', message: `${taskName(task)} lost its worker ${itsOwn.length} times (last: ${last}); it may crash or hang the worker` };
  }
  if (lost.length >= LOST_ATTEMPTS_LIMIT_ANY_CAUSE) {
    return { code: 'TORPEDO_ERR_WORKER_LOST', message: `${taskName(task)} lost its worker ${lost.length} times (last: ${last}); something keeps killing the workers that run it` };
  }
  return undefined;
}
