// The Gantt chart's data: one bar per task attempt on its worker's row, in seconds since the job
// started (the MapReduce paper's figure 3, per worker). Pure, so that it can be unit-tested.
import type { AttemptState, Job } from '../api-types.ts';

export interface TimelineBar {
  readonly worker: string;
  /** Seconds since `t0`. */
  readonly start: number;
  readonly end: number;
  readonly state: AttemptState;
  readonly backup: boolean;
  readonly task: string;
  readonly attempt: string;
  readonly error?: string;
}

export interface Timeline {
  /** Epoch milliseconds of second 0. */
  readonly t0: number;
  readonly workers: readonly string[];
  readonly bars: readonly TimelineBar[];
}

/** Attempts still running end at `now` (epoch ms). */
export function timelineOf(job: Pick<Job, 'startedAt' | 'tasks'>, now: number): Timeline {
  const attempts = job.tasks.flatMap((t) => t.attempts.map((a) => ({ t, a })));
  const starts = attempts.map(({ a }) => Date.parse(a.startedAt));
  const t0 = job.startedAt !== null ? Math.min(Date.parse(job.startedAt), ...starts) : Math.min(now, ...starts);
  const bars = attempts.map(({ t, a }) => ({
    worker: a.worker,
    start: (Date.parse(a.startedAt) - t0) / 1000,
    end: (Math.max(Date.parse(a.startedAt), a.endedAt !== null ? Date.parse(a.endedAt) : now) - t0) / 1000,
    state: a.state,
    backup: a.backup,
    task: `${t.kind} ${t.index}`,
    attempt: a.id,
    ...(a.error !== undefined ? { error: a.error } : {}),
  }));
  const workers = [...new Set(bars.map((b) => b.worker))].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  return { t0, workers, bars };
}
