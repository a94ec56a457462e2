import type { JobSnapshot, Progress } from '../master/master.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import type { ApiSettingName, JobSettings } from '../protocol/job-settings.ts';
import type { PodRequest } from '../protocol/pod-settings.ts';
import type { jobs, JobStatus } from './database/schema.ts';

// What the manager keeps of a job, whichever way it runs (src/manager/job-runner.ts): its row,
// its stored spec, its progress and its end. The scheduler and both runners import these; none
// of them imports another for them.

export type JobRow = typeof jobs.$inferSelect;

/**
 * The stored spec of a job: what it was submitted with, the settings users may give
 * (JOB_SETTINGS' `api` ones) with the manager's defaults filled in.
 */
export type JobSpec = Pick<JobSettings, 'reducers' | 'workers'> &
  Partial<{ readonly [K in Exclude<ApiSettingName, 'reducers' | 'workers'>]: JobSettings[K] }> & {
    readonly inputs: readonly string[];
    readonly params: Readonly<Record<string, string>>;
    readonly language?: 'ts' | 'js';
    /** A module's `setup`, as loading it at submit showed (absent in rows from before it was kept). */
    readonly hasSetup?: boolean;
    readonly streaming?: { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: readonly string[] };
    /** A JavaScript or built-in job's side files (`files` of POST /jobs), by name, in the job's files/. */
    readonly sideFiles?: readonly string[];
    /** On Kubernetes: what the owner asked of the job's pods (src/protocol/pod-settings.ts). */
    readonly pods?: PodRequest;
  };

/** Progress mirrored into the database while a job runs (and kept after). */
export type JobProgress = Pick<Progress, 'phase' | 'phases' | 'mapBytes' | 'inputBytes'>;

export type JobEvent = { readonly type: 'progress'; readonly progress: JobProgress & { readonly status: JobStatus } } | { readonly type: 'end' };

/** A job's end, as its row keeps it, whichever way it ran. */
export interface JobEnd {
  readonly status: 'succeeded' | 'failed' | 'cancelled';
  readonly error?: ErrorReport;
  /** The master's last snapshot: the row's task table, and its progress unless `progress` is given. */
  readonly snapshot?: JobSnapshot;
  readonly progress?: JobProgress;
  readonly summary?: JobSummary;
}

export function progressOf(s: JobProgress): JobProgress {
  return { phase: s.phase, phases: s.phases, mapBytes: s.mapBytes, inputBytes: s.inputBytes };
}

/** The error a cancelled job's row keeps. */
export function cancelled(reason: string): ErrorReport {
  return { code: 'TORPEDO_ERR_CANCELLED', message: reason === '' ? 'the job was cancelled' : reason };
}
