import type { ErrorReport, TaskKind } from '../protocol/messages.ts';
import type { JobEventNote } from './job-snapshot.ts';
import type { TaskTable } from './task-table.ts';

export interface PhaseSummary {
  readonly tasks: number;
  readonly attempts: number;
  readonly failedAttempts: number;
  /** Attempts whose worker died or stopped heartbeating. */
  readonly lostAttempts: number;
  /** Attempts stopped because another attempt of their task committed first. */
  readonly killedAttempts: number;
  readonly backupAttempts: number;
  /** Tasks whose committed output was reused from an earlier run (`--resume`). */
  readonly reusedTasks: number;
}

/** What `torpedo run --json` prints, and what the human summary shows. */
export interface JobSummary {
  readonly status: 'succeeded' | 'failed';
  readonly jobId: string;
  readonly job: string;
  readonly output: string;
  readonly wallMs: number;
  readonly inputBytes: number;
  readonly mbPerSecond: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly userCounters: Readonly<Record<string, number>>;
  readonly phases: Readonly<Record<TaskKind, PhaseSummary>>;
  readonly workers: readonly { readonly id: string; readonly maxRssBytes: number }[];
  readonly error?: ErrorReport;
  /** What the owner should know about the job's workers (e.g. pods that did not start); absent: none. */
  readonly events?: readonly JobEventNote[];
}

export function summarize(s: {
  jobId: string;
  jobName: string;
  status: 'succeeded' | 'failed';
  wallMs: number;
  inputBytes: number;
  output: string;
  tables: Readonly<Record<TaskKind, TaskTable<unknown>>>;
  counters: Record<string, number>;
  userCounters: Record<string, number>;
  workerRss: ReadonlyMap<string, number>;
  error?: ErrorReport;
  events?: readonly JobEventNote[];
}): JobSummary {
  const phase = (t: TaskTable<unknown>): PhaseSummary => {
    const attempts = t.tasks.flatMap((x) => x.attempts);
    return {
      tasks: t.tasks.length,
      attempts: attempts.length,
      failedAttempts: attempts.filter((a) => a.state === 'failed').length,
      lostAttempts: attempts.filter((a) => a.state === 'lost').length,
      killedAttempts: attempts.filter((a) => a.state === 'killed').length,
      backupAttempts: attempts.filter((a) => a.backup).length,
      reusedTasks: t.tasks.filter((x) => x.reused).length,
    };
  };
  return {
    status: s.status,
    jobId: s.jobId,
    job: s.jobName,
    output: s.output,
    wallMs: s.wallMs,
    inputBytes: s.inputBytes,
    mbPerSecond: s.wallMs > 0 ? s.inputBytes / 1e6 / (s.wallMs / 1000) : 0,
    counters: s.counters,
    userCounters: s.userCounters,
    phases: { setup: phase(s.tables.setup), map: phase(s.tables.map), reduce: phase(s.tables.reduce) },
    workers: [...s.workerRss].map(([id, maxRssBytes]) => ({ id, maxRssBytes })),
    ...(s.error ? { error: s.error } : {}),
    ...(s.events !== undefined && s.events.length > 0 ? { events: s.events } : {}),
  };
}
