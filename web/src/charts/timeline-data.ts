// The Gantt chart's data: one bar per task attempt on its worker's row, in seconds since the job
// started (the MapReduce paper's figure 3, per worker). Pure, so that it can be unit-tested.
import type { AttemptState, Job } from '../api-types.ts';

export interface TimelineBar {
  readonly worker: string;
  /** Seconds since `t0`. */
  readonly start: number;
  readonly end: number;
  /** `stopped`: the attempt was still running when the job ended (cancelled, or failed elsewhere). */
  readonly state: AttemptState | 'stopped';
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

/**
 * Attempts still running end at `now` (epoch ms). Once the job has ended, none is running: an
 * attempt the job's record still calls running (a cancel stops its worker before the attempt can
 * report) is drawn `stopped`, ending when the job did.
 */
export function timelineOf(job: Pick<Job, 'startedAt' | 'tasks'> & Partial<Pick<Job, 'status' | 'finishedAt'>>, now: number): Timeline {
  const over = job.status !== undefined && job.status !== 'queued' && job.status !== 'running';
  const endOf = over && job.finishedAt != null ? Date.parse(job.finishedAt) : now;
  const attempts = job.tasks.flatMap((t) => t.attempts.map((a) => ({ t, a })));
  const starts = attempts.map(({ a }) => Date.parse(a.startedAt));
  const t0 = job.startedAt !== null ? Math.min(Date.parse(job.startedAt), ...starts) : Math.min(now, ...starts);
  const bars = attempts.map(({ t, a }) => ({
    worker: a.worker,
    start: (Date.parse(a.startedAt) - t0) / 1000,
    end: (Math.max(Date.parse(a.startedAt), a.endedAt !== null ? Date.parse(a.endedAt) : endOf) - t0) / 1000,
    state: over && a.state === 'running' ? ('stopped' as const) : a.state,
    backup: a.backup,
    task: `${t.kind} ${t.index}`,
    attempt: a.id,
    ...(a.error !== undefined ? { error: a.error } : {}),
  }));
  const workers = [...new Set(bars.map((b) => b.worker))].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
  return { t0, workers, bars };
}
