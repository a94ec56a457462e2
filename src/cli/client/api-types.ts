// The shapes of the manager's answers as docs/rest-api.md describes them. Declared here rather than
// imported from src/manager/ so that the client depends on the documented contract only (and the
// CLI bundle does not pull in the server).

export interface LoginAnswer {
  readonly token: string;
  readonly expiresAt: string;
}

export interface Me {
  readonly username: string;
  readonly roles: readonly string[];
}

export interface User extends Me {
  readonly disabled: boolean;
  readonly createdAt: string;
}

export interface Dataset {
  readonly name: string;
  readonly owner: string;
  readonly size: number;
  readonly sha256: string;
  readonly createdAt: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Progress {
  readonly done: number;
  readonly total: number;
}

export interface JobSummary {
  readonly id: string;
  readonly owner: string;
  readonly job: string;
  readonly status: JobStatus;
  readonly phase: string;
  readonly progress: Progress;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface Phases {
  readonly setup: Progress;
  readonly map: Progress;
  readonly reduce: Progress;
}

export interface Job extends JobSummary {
  readonly inputs: readonly string[];
  readonly reducers: number;
  readonly workers: number;
  readonly params: Readonly<Record<string, string>>;
  readonly phases: Phases;
  readonly mapBytes: number;
  readonly inputBytes: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly userCounters: Readonly<Record<string, number>>;
  /** Only for a failed (or cancelled) job. */
  readonly error?: { readonly code: string; readonly message: string } | null;
  /** Only for a succeeded job. */
  readonly outputParts?: readonly string[];
}

/** The data of an `event: progress` of GET /jobs/:id/events. */
export interface ProgressEvent {
  readonly status: JobStatus;
  readonly phase: string;
  readonly phases: Phases;
  readonly mapBytes: number;
  readonly inputBytes: number;
}

export function hasEnded(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running';
}
