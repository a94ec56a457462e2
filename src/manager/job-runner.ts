import type { RunJobOptions } from '../job/run-local-job.ts';
import type { JobSnapshot, Progress } from '../master/master.ts';
import type { CodeChecker } from './code-checker.ts';
import type { JobEnd, JobProgress, JobRow } from './job-records.ts';

/**
 * How the manager runs the jobs it has claimed: the one seam between the JobScheduler (the queue,
 * the rows, the listeners) and a way of running. Two implementations: LocalJobRunner (the master
 * in the manager's process, workers as confined child processes) and ClusterJobRunner (a master
 * Job on Kubernetes, followed by every replica). The scheduler picks one at construction, from
 * TORPEDO_LAUNCHER, and never asks which it has.
 */
export interface JobRunner {
  /** How submitted code is checked before it is stored: in local sandboxes, or in compile pods. */
  readonly codeChecker: CodeChecker;
  /** What the operator is told at start about how users' code is confined. */
  confinementNote(): string;
  /**
   * Refuses (TORPEDO_ERR_SANDBOX) users' code (a module, a streaming command) that this runner
   * cannot confine as the operator requires. Called at submit, before anything is stored.
   */
  checkConfinable(): void;
  /**
   * Takes up the jobs whose rows say `running`: those interrupted when the manager stopped
   * (resumed from their committed tasks), or those that went on without it on a cluster.
   * Called once, before the first `run`.
   */
  start(): Promise<void>;
  /** Runs a job the scheduler has just claimed (its row now `running`). Returns at once. */
  run(row: JobRow): void;
  /** How many jobs run against the cap on running jobs: this process's, or the cluster's. */
  runningCount(): Promise<number>;
  /** Live state of a running job, with every task and attempt, or undefined. */
  live(id: string): JobSnapshot | undefined;
  /** Live progress of a running job (cheaper than `live`), or undefined. */
  progress(id: string): Progress | undefined;
  /**
   * Cancels a running job and records it cancelled; TORPEDO_ERR_CONFLICT if it has already
   * ended. Resolves once its workers are stopped. (A queued job is the scheduler's to cancel.)
   */
  cancel(id: string, reason: string): Promise<void>;
  /**
   * At shutdown, once: stops this manager's part in running jobs without ending them (their rows
   * stay `running`; local jobs resume at the next start, cluster jobs go on).
   */
  stop(): Promise<void>;
}

/** What a runner needs of the scheduler: a job's engine options, and the bookkeeping of rows and listeners. */
export interface JobRunnerHost {
  /** How the engine runs a claimed job: its files in the manager's storage, its settings. */
  runOptions(row: JobRow): RunJobOptions;
  /** Where a job's master writes its state (outside `output/_temporary`, which the commit removes). */
  statusFile(id: string): string;
  /** A running job's progress: sent to its listeners if it changed; saved to its row with `save`. */
  progress(id: string, progress: JobProgress, save: boolean): Promise<void>;
  /** Saves a job's end to its row, once; false if the row had already ended (another replica saved it). */
  recordEnd(id: string, end: JobEnd): Promise<boolean>;
  /** Job `id` no longer runs (ended here or elsewhere): its listeners get their end event, a queued job may start. */
  ended(id: string): void;
  /** Logs a line of the manager's log. */
  log(line: string): void;
}
