import { explainNoSpace, isTorpedoError } from '../errors.ts';
import { splitBytes, splitPieces, type Split } from '../input/splits.ts';
import type { ErrorReport, Task, TaskKind } from '../protocol/messages.ts';
import { taskName } from './task-name.ts';
import { TaskTable, type Attempt, type TaskRecord } from './task-table.ts';

/** What a task reads: the kind's own part of the task message its workers are given. */
export type TaskInput =
  | { readonly kind: 'setup'; readonly splits: readonly Split[] }
  | { readonly kind: 'map'; readonly split: Split }
  | { readonly kind: 'reduce' };

export type JobTask = TaskRecord<TaskInput>;

export interface RunningAttempt {
  readonly table: TaskTable<TaskInput>;
  readonly task: JobTask;
  readonly attempt: Attempt;
}

export const TASK_KINDS: readonly TaskKind[] = ['setup', 'map', 'reduce'];

/** Every task of one job, a table per kind, and the questions the master asks across them. */
export class JobTasks {
  readonly tables: Readonly<Record<TaskKind, TaskTable<TaskInput>>>;
  /** Bytes of input of all map tasks. */
  readonly inputBytes: number;

  constructor(splits: readonly Split[], reducers: number, hasSetup: boolean) {
    this.tables = {
      setup: new TaskTable<TaskInput>('setup', hasSetup ? [{ kind: 'setup', splits: wholeFiles(splits) }] : []),
      map: new TaskTable<TaskInput>('map', splits.map((split) => ({ kind: 'map', split }))),
      reduce: new TaskTable<TaskInput>('reduce', Array.from({ length: reducers }, () => ({ kind: 'reduce' }))),
    };
    this.inputBytes = splits.reduce((s, x) => s + splitBytes(x), 0);
  }

  find(attemptId: string): { task: JobTask; attempt: Attempt } | undefined {
    for (const kind of TASK_KINDS) {
      const found = this.tables[kind].lookup(attemptId);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Every running attempt (on `workerId` only, if given), in task order; a list taken now. */
  running(workerId?: string): RunningAttempt[] {
    const out: RunningAttempt[] = [];
    for (const kind of TASK_KINDS) {
      const table = this.tables[kind];
      for (const task of table.tasks) {
        for (const attempt of task.attempts) {
          if (attempt.state === 'running' && (workerId === undefined || attempt.workerId === workerId)) out.push({ table, task, attempt });
        }
      }
    }
    return out;
  }

  /** Input bytes read by map attempts, finished and running (a task counts its furthest attempt). */
  mapBytes(): number {
    let bytes = 0;
    for (const t of this.tables.map.tasks) {
      const size = taskInputBytes(t);
      if (t.state === 'done') bytes += size;
      else bytes += Math.min(size, Math.max(0, ...t.attempts.filter((a) => a.state === 'running').map((a) => a.bytes)));
    }
    return bytes;
  }
}

/** The bytes of input a task reads: its split's for a map task, 0 for the others. */
export function taskInputBytes(task: JobTask): number {
  return task.payload.kind === 'map' ? splitBytes(task.payload.split) : 0;
}

/**
 * One range per input file, covering it whole: what the setup task samples from. Each keeps its
 * file's size and mtime as planned, so the sampler too refuses a file that changed since.
 */
function wholeFiles(splits: readonly Split[]): Split[] {
  const files = new Map<string, Split>();
  for (const s of splits.flatMap(splitPieces)) {
    const known = files.get(s.file);
    if (known === undefined || s.end > known.end) files.set(s.file, { ...s, start: 0 });
  }
  return [...files.values()];
}

/** The task message a worker is given for `attempt` of `task`; `skip`: records to leave out. */
export function taskMessage(task: JobTask, attempt: Attempt, skip: readonly number[]): Task {
  const input = task.payload;
  return {
    attemptId: attempt.id,
    kind: task.kind,
    index: task.index,
    attempt: attempt.number,
    ...(input.kind === 'map' ? { split: input.split, ...(skip.length > 0 ? { skip: [...skip] } : {}) } : {}),
    ...(input.kind === 'setup' ? { splits: [...input.splits] } : {}),
  };
}

/** Why an attempt may not publish its output (fencing), or undefined if it may. */
export function commitRefusal(found: { task: JobTask; attempt: Attempt } | undefined, workerId: string): string | undefined {
  if (found === undefined) return 'this master does not know the attempt (it may have restarted)';
  const { task, attempt } = found;
  if (attempt.workerId !== workerId) return `the attempt belongs to ${attempt.workerId}`;
  if (task.state === 'done') return 'the task has been committed by another attempt';
  if (attempt.state !== 'running') return `the attempt is ${attempt.state}${attempt.error !== undefined ? ` (${attempt.error})` : ''}`;
  return undefined;
}

/** The job's error when `task` has failed for good: how often (or that it is not retried), and its last attempt's error. */
export function taskFailure(task: JobTask, last: ErrorReport): ErrorReport {
  const tries = task.failures;
  if (last.retryable === false) {
    return { ...last, message: `${taskName(task)} failed${tries > 1 ? ` ${tries} times` : ''} and is not retried (no retry can fix this error): ${last.message}` };
  }
  return { ...last, message: `${taskName(task)} failed ${tries} time${tries === 1 ? '' : 's'}; last error: ${last.message}` };
}

/**
 * The job's error when the master could not note `task` as done: its own write (the task's
 * counters, the setup's result) failed. TORPEDO_ERR_NO_SPACE naming the file on a full storage.
 */
export function bookkeepingFailure(task: JobTask, e: unknown): ErrorReport {
  const error = explainNoSpace(e);
  const code = isTorpedoError(error) ? error.code : 'TORPEDO_ERR_TASK_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  return { code, message: `${taskName(task)} was done, but the master could not note it: ${message}` };
}
