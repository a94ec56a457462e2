// The shapes of the manager's REST API (docs/rest-api.md), in one place: the manager's views are
// typed with them (so the server is checked against the contract), and the CLI client and the
// web UI read answers through them. Types only, no runtime code, and type imports only of files
// that import nothing (the roles, the job settings), so that the UI and the CLI can import this
// without pulling in the server.
import type { ApiSettingName, JobSettings } from '../protocol/job-settings.ts';
import type { Role } from './roles.ts';

export type { Role };

export interface LoginAnswer {
  readonly token: string;
  readonly expiresAt: string;
  /**
   * Kept by the client and sent as `deviceToken` with its next logins as this user: failed logins
   * that carry it are counted apart from everyone else's (docs/manager.md, "Failed logins").
   */
  readonly deviceToken: string;
}

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
export type TaskState = 'pending' | 'running' | 'done' | 'failed';
export type AttemptState = 'running' | 'succeeded' | 'failed' | 'lost' | 'killed';

export interface Count {
  readonly done: number;
  readonly total: number;
}

export type Phases = Readonly<Record<TaskKind, Count>>;

/** Why a queued job waits: every job slot is taken, its owner runs as many as one user may, or it starts in a moment. */
export type QueueReason = 'running-jobs-cap' | 'user-cap' | 'starting';

/** A queued job's place: 1 is the next to start. */
export interface QueuePlace {
  readonly position: number;
  readonly reason: QueueReason;
}

export interface JobSummary {
  readonly id: string;
  /** The name given at submit, or null. */
  readonly name: string | null;
  readonly owner: string;
  readonly job: string;
  readonly status: JobStatus;
  /** setup | map | reduce | commit while running; the status once ended. */
  readonly phase: string;
  /** Tasks of the current phase. */
  readonly progress: Count;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Only for a queued job. */
  readonly queue?: QueuePlace;
}

export interface Attempt {
  readonly id: string;
  readonly worker: string;
  readonly state: AttemptState;
  readonly backup: boolean;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly error?: string;
  /** A running attempt: CPU time of its worker since it began (ms) and the worker's RSS, from heartbeats. */
  readonly cpuMs?: number;
  readonly rssBytes?: number;
}

/** One kept attempt log, as GET /jobs/:id/logs lists it (protocol/attempt-logs.ts, AttemptLogEntry). */
export interface AttemptLog {
  readonly attemptId: string;
  readonly task: string;
  readonly attempt: number;
  readonly bytes: number;
}

export interface Task {
  readonly kind: TaskKind;
  readonly index: number;
  readonly state: TaskState;
  readonly reused: boolean;
  /** Map tasks: input bytes. */
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

export interface StreamingCommands {
  readonly mapper: string;
  readonly reducer: string;
  readonly combiner?: string;
  /** Names of the files sent with the job. */
  readonly files: readonly string[];
}

export interface Job extends JobSummary {
  readonly inputs: readonly string[];
  readonly reducers: number;
  readonly workers: number;
  readonly splitSize: number | null;
  readonly maps: number | null;
  /** How its part files hold records, and their codec (docs/output-formats.md). */
  readonly outputFormat: JobSettings['outputFormat'];
  readonly outputCompression: JobSettings['outputCompression'];
  readonly params: Readonly<Record<string, string>>;
  /** A streaming job's commands. */
  readonly streaming?: StreamingCommands;
  /** On Kubernetes: what the owner asked of the job's pods, as submitted. */
  readonly pods?: PodRequest;
  readonly phases: Phases;
  readonly mapBytes: number;
  readonly inputBytes: number;
  readonly tasks: readonly Task[];
  readonly counters: Readonly<Record<string, number>>;
  readonly userCounters: Readonly<Record<string, number>>;
  readonly wallMs: number | null;
  /** Only for a failed or cancelled job. */
  readonly error?: JobError;
  /** Only for a succeeded job. */
  readonly outputParts?: readonly string[];
  /** A succeeded job's named outputs' files (`emit.to`: `good-r-00000`), downloadable as parts are. */
  readonly namedOutputs?: readonly string[];
  /**
   * What the owner should know about the job's workers, oldest first: e.g. on Kubernetes, that
   * some worker pods did not start and why (the job went on with the others). Absent: none.
   */
  readonly events?: readonly JobEventNote[];
}

/** One of a job's events: when (ISO time) and what. */
export interface JobEventNote {
  readonly at: string;
  readonly message: string;
}

/** The data of an `event: progress` of GET /jobs/:id/events. */
export interface ProgressEvent {
  readonly status: JobStatus;
  readonly phase: string;
  readonly phases: Phases;
  readonly mapBytes: number;
  readonly inputBytes: number;
}

/** The body of POST /jobs, but for the job's settings. */
export interface SubmitBody {
  /** A name of the user's choosing, to find the job by (GET /jobs?name=). */
  readonly name?: string;
  readonly example?: string;
  readonly code?: string;
  readonly language?: 'ts' | 'js';
  /** A streaming job: shell commands, and files (name → text) put in each task's working directory. */
  readonly mapper?: string;
  readonly reducer?: string;
  readonly combiner?: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly inputs: readonly string[];
  readonly params?: Readonly<Record<string, string>>;
  /** On Kubernetes: the job's pods, within the operator's bounds (docs/kubernetes-launcher.md, "Pod settings"). */
  readonly pods?: PodRequest;
}

/** What a job's owner may ask of its pods on Kubernetes (src/protocol/pod-settings.ts, PodRequestSchema). */
export interface PodRequest {
  /** Each worker's CPU request, e.g. `2` or `1500m`. */
  readonly cpu?: string;
  /** Each worker's memory request and limit, e.g. `4Gi`. */
  readonly memory?: string;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly { readonly key: string; readonly operator?: 'Equal' | 'Exists'; readonly value?: string; readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'; readonly tolerationSeconds?: number }[];
  readonly priorityClassName?: string;
}

/** POST /jobs: the body, with the settings users may give (src/protocol/job-settings.ts, `api`). */
export type SubmitRequest = SubmitBody & { readonly [K in ApiSettingName]?: Exclude<JobSettings[K], null> };

/** One running attempt in GET /cluster. */
export interface ClusterAttempt {
  readonly id: string;
  readonly kind: TaskKind;
  readonly index: number;
  readonly backup: boolean;
  readonly startedAt: string;
  /** From the worker's last heartbeat; absent until its first. */
  readonly cpuMs?: number;
  readonly rssBytes?: number;
}

/** A worker of a running job, and what it runs now (nothing: between tasks). */
export interface ClusterWorker {
  readonly worker: string;
  readonly job: string;
  readonly jobName: string | null;
  readonly owner: string;
  readonly running: readonly ClusterAttempt[];
}

/** GET /cluster (admins): the running jobs' workers, and the queue. */
export interface ClusterView {
  readonly runningJobs: number;
  readonly queuedJobs: number;
  readonly maxRunningJobs: number;
  readonly maxRunningJobsPerUser: number;
  readonly workers: readonly ClusterWorker[];
}
