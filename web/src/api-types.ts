// The shapes of the manager's REST API (docs/rest-api.md), as the UI reads them. Types only (and
// two constant lists), no DOM: the chart data modules and their unit tests import this too.

export const ROLES = ['admin', 'manage_users', 'submit_jobs', 'track_jobs', 'read_storage', 'write_storage'] as const;
export type Role = (typeof ROLES)[number];

export interface Me {
  readonly username: string;
  readonly roles: readonly Role[];
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
export type TaskKind = 'setup' | 'map' | 'reduce';
export type AttemptState = 'running' | 'succeeded' | 'failed' | 'lost' | 'killed';

export interface Count {
  readonly done: number;
  readonly total: number;
}

export interface JobSummary {
  readonly id: string;
  readonly owner: string;
  readonly job: string;
  readonly status: JobStatus;
  /** setup | map | reduce | commit while running; the status once ended. */
  readonly phase: string;
  readonly progress: Count;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface Attempt {
  readonly id: string;
  readonly worker: string;
  readonly state: AttemptState;
  readonly backup: boolean;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly error?: string;
}

export interface Task {
  readonly kind: TaskKind;
  readonly index: number;
  readonly state: 'pending' | 'running' | 'done' | 'failed';
  readonly reused: boolean;
  readonly bytes?: number;
  readonly attempts: readonly Attempt[];
}

export interface JobError {
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
  readonly file?: string;
  readonly offset?: number;
}

export interface Job extends JobSummary {
  readonly inputs: readonly string[];
  readonly reducers: number;
  readonly workers: number;
  readonly splitSize: number | null;
  readonly maps: number | null;
  readonly params: Readonly<Record<string, string>>;
  /** A streaming job's commands and the names of the files sent with them. */
  readonly streaming?: { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: readonly string[] };
  readonly phases: Readonly<Record<TaskKind, Count>>;
  readonly mapBytes: number;
  readonly inputBytes: number;
  readonly tasks: readonly Task[];
  readonly counters: Readonly<Record<string, number>>;
  readonly userCounters: Readonly<Record<string, number>>;
  readonly wallMs: number | null;
  readonly error?: JobError;
  readonly outputParts?: readonly string[];
}

/** The `progress` event of GET /jobs/:id/events. */
export interface ProgressEvent {
  readonly status: JobStatus;
  readonly phase: string;
  readonly phases: Readonly<Record<TaskKind, Count>>;
  readonly mapBytes: number;
  readonly inputBytes: number;
}

export interface SubmitRequest {
  readonly example?: string;
  readonly code?: string;
  readonly language?: 'ts' | 'js';
  /** A streaming job: shell commands, and files (name → text) put in each task's working directory. */
  readonly mapper?: string;
  readonly reducer?: string;
  readonly combiner?: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly inputs: readonly string[];
  readonly reducers?: number;
  readonly splitSize?: number;
  readonly maps?: number;
  readonly workers?: number;
  readonly params?: Readonly<Record<string, string>>;
}

/** What the UI routes add for the UI: GET /ui-settings.json (no token needed). */
export interface UiSettings {
  readonly allowRegistration: boolean;
  readonly maxUploadBytes: number;
}

export const EXAMPLES = ['wordcount', 'grep', 'inverted-index', 'sort'] as const;
