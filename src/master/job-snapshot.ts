import type { TaskKind } from '../protocol/messages.ts';
import type { Phase } from './job-phases.ts';
import { TASK_KINDS, taskInputBytes, type JobTasks } from './job-tasks.ts';
import type { JobCounters } from './task-counters.ts';
import type { AttemptState, TaskState } from './task-table.ts';

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
    /** A running attempt's CPU time (ms) and its worker's RSS, as its last heartbeat reported them. */
    readonly cpuMs?: number;
    readonly rssBytes?: number;
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
  /** What the owner should know about the job's workers (protocol/master-status.ts, JobEventNoteSchema); absent: none. */
  readonly events?: readonly JobEventNote[];
}

/** One of a job's events: when (ms since the epoch) and what. */
export interface JobEventNote {
  readonly at: number;
  readonly message: string;
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

/** Where a job stands, for progress bars; after the last task phase, the reduce phase's numbers. */
export function progressOf(phase: Phase, tasks: JobTasks): Progress {
  const table = tasks.tables[phase === 'setup' || phase === 'map' ? phase : 'reduce'];
  const phases = {} as Record<TaskKind, { done: number; total: number }>;
  for (const kind of TASK_KINDS) phases[kind] = { done: tasks.tables[kind].done, total: tasks.tables[kind].tasks.length };
  return { phase, done: table.done, total: table.tasks.length, phases, mapBytes: tasks.mapBytes(), inputBytes: tasks.inputBytes };
}

/** Every task with its attempts, for a live task table (the manager's GET /jobs/:id). */
export function snapshotOf(phase: Phase, tasks: JobTasks, counters: JobCounters, events: readonly JobEventNote[] = []): JobSnapshot {
  const list: TaskSnapshot[] = [];
  for (const kind of TASK_KINDS) {
    for (const t of tasks.tables[kind].tasks) {
      list.push({
        kind,
        index: t.index,
        state: t.state,
        reused: t.reused,
        ...(kind === 'map' ? { bytes: taskInputBytes(t) } : {}),
        attempts: t.attempts.map((a) => ({
          id: a.id,
          worker: a.workerId,
          state: a.state,
          backup: a.backup,
          startedAt: a.startedAt,
          ...(a.endedAt !== undefined ? { endedAt: a.endedAt } : {}),
          ...(a.error !== undefined ? { error: a.error } : {}),
          ...(a.usage !== undefined && a.state === 'running' ? { cpuMs: a.usage.cpuMs, rssBytes: a.usage.rssBytes } : {}),
        })),
      });
    }
  }
  const p = progressOf(phase, tasks);
  return { phase, phases: p.phases, mapBytes: p.mapBytes, inputBytes: p.inputBytes, tasks: list, counters: { ...counters.counters }, userCounters: { ...counters.userCounters }, ...(events.length > 0 ? { events: [...events] } : {}) };
}
