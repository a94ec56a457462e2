import { PART_NAME } from '../protocol/task-names.ts';
import type { JobSnapshot, TaskSnapshot } from '../master/master.ts';
import type { Job, JobError, JobSummary, QueuePlace } from './rest-types.ts';
import type { JobProgress, JobRow, JobSpec } from './job-records.ts';


const NO_PROGRESS: JobProgress = {
  phase: 'map',
  phases: { setup: { done: 0, total: 0 }, map: { done: 0, total: 0 }, reduce: { done: 0, total: 0 } },
  mapBytes: 0,
  inputBytes: 0,
};

/**
 * The job as `GET /jobs` shows it; while the row says `running`, `live` (the master's progress)
 * wins over the saved row. Once the row has ended, the row is the truth: another replica, or the
 * follower of a cluster job, may still hold a live state a moment older than the end.
 */
export function jobSummaryView(row: JobRow, owner: string, liveState: JobProgress | undefined, queue?: QueuePlace): JobSummary {
  const live = row.status === 'running' ? liveState : undefined;
  const p = live ?? (row.progress as JobProgress | null) ?? NO_PROGRESS;
  const phase = row.status === 'running' ? (live?.phase ?? row.phase) : row.status;
  const current = p.phase === 'setup' || p.phase === 'map' || p.phase === 'reduce' ? p.phases[p.phase] : p.phases.reduce;
  return {
    id: row.id,
    name: row.name,
    owner,
    job: row.job,
    status: row.status,
    phase,
    progress: { done: current.done, total: current.total },
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    ...(row.status === 'queued' && queue !== undefined ? { queue } : {}),
  };
}

/**
 * Makes a text about a job safe to show its owner: storage paths of the manager
 * (HOME/datasets/<owner id>/NAME, HOME/jobs/<id>/…) become the dataset name or the job-relative
 * path, so errors and stack traces name `books.txt` and `bundle/job.mjs`, not the server's disk.
 */
export function storagePathRedactor(home: string): (text: string) => string {
  // Source-mapped stack frames may name the path without its leading slash.
  const escaped = home.replace(/^\//, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(?:file://)?/?${escaped}/(?:datasets/\\d+|jobs/[A-Za-z0-9-]+)/`, 'g');
  return (text) => text.replace(pattern, '');
}

function redactError(error: unknown, redact: (text: string) => string): JobError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // The row holds an ErrorReport as the engine produced it: {code, message, stack?, file?, offset?}.
  return Object.fromEntries(Object.entries(error).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v])) as unknown as JobError;
}

/**
 * The job as `GET /jobs/:id` shows it: the summary plus spec, phases, tasks, counters, error,
 * parts. `live` counts only while the row says `running` (see jobSummaryView).
 */
export function jobView(row: JobRow, owner: string, liveState: JobSnapshot | undefined, outputFiles: readonly string[], redact: (text: string) => string = (t) => t, queue?: QueuePlace): Job {
  const live = row.status === 'running' ? liveState : undefined;
  const spec = row.spec as JobSpec;
  const p = live ?? (row.progress as JobProgress | null) ?? NO_PROGRESS;
  const saved = row.counters as { counters?: Record<string, number>; userCounters?: Record<string, number>; wallMs?: number; events?: { at: number; message: string }[] } | null;
  const events = (live?.events ?? saved?.events ?? []).map((e) => ({ at: new Date(e.at).toISOString(), message: redact(e.message) }));
  const tasks = (live?.tasks ?? (row.tasks as TaskSnapshot[] | null) ?? []).map((t) => ({
    kind: t.kind,
    index: t.index,
    state: t.state,
    reused: t.reused,
    ...(t.bytes !== undefined ? { bytes: t.bytes } : {}),
    attempts: t.attempts.map((a) => ({
      ...a,
      startedAt: new Date(a.startedAt).toISOString(),
      endedAt: a.endedAt !== undefined ? new Date(a.endedAt).toISOString() : null,
      ...(a.error !== undefined ? { error: redact(a.error) } : {}),
    })),
  }));
  return {
    ...jobSummaryView(row, owner, live, queue),
    inputs: spec.inputs,
    reducers: spec.reducers,
    workers: spec.workers,
    splitSize: spec.splitSize ?? null,
    maps: spec.maps ?? null,
    outputFormat: spec.outputFormat ?? 'text',
    outputCompression: spec.outputCompression ?? 'none',
    params: spec.params,
    ...(spec.streaming !== undefined ? { streaming: spec.streaming } : {}),
    ...(spec.pods !== undefined ? { pods: spec.pods } : {}),
    phases: p.phases,
    mapBytes: p.mapBytes,
    inputBytes: p.inputBytes,
    tasks,
    counters: live?.counters ?? saved?.counters ?? {},
    userCounters: live?.userCounters ?? saved?.userCounters ?? {},
    wallMs: saved?.wallMs ?? null,
    ...((row.status === 'failed' || row.status === 'cancelled') && row.error !== null ? { error: redactError(row.error, redact) } : {}),
    // The output's files: its parts, and its named outputs' (JobScheduler.outputFiles).
    ...(row.status === 'succeeded' ? { outputParts: outputFiles.filter((f) => PART_NAME.test(f)), namedOutputs: outputFiles.filter((f) => !PART_NAME.test(f)) } : {}),
    ...(events.length > 0 ? { events } : {}),
  };
}
