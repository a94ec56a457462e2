import type { ErrorReport } from '../protocol/messages.ts';

/**
 * The one seam between the engine and where it runs: how a job's workers are started and stopped.
 *
 * Two kinds of launcher keep the pool at W workers:
 *  - a per-worker launcher (`startWorker`): the master starts W workers, each with an id it picks,
 *    and starts a replacement when one dies (local worker processes);
 *  - a pool launcher (`startPool`): the launcher starts W workers once and something else keeps
 *    their number up (a Kubernetes Job with `parallelism = W`, or workers started by hand). The
 *    workers pick their own ids; the master never starts replacements.
 * Either way the master learns of deaths through `onExit` (faster than waiting for a lease).
 */
export interface Launcher {
  /**
   * Starts one worker process that connects to `masterUrl` with `token`. Called by the master,
   * W times at the start and once per replacement; never twice with the same id.
   */
  startWorker?(workerId: string, masterUrl: string, token: string): void;
  /** Starts the whole pool of `workers`; called once, instead of `startWorker`. */
  startPool?(workers: number, masterUrl: string, token: string): Promise<void>;
  /**
   * Stops one worker (it stopped heartbeating, or lost a backup race); `onExit` follows when it
   * is gone. Idempotent; an unknown or finished worker is ignored.
   */
  stopWorker(workerId: string): void;
  /**
   * Waits up to `graceMs` for every worker this launcher started to leave on its own (they do once
   * the master answers `exit`), then kills the rest. Idempotent.
   */
  stopAll(graceMs?: number): Promise<void>;
  /** Set by the master before the first start; called once per worker that ends. */
  onExit: (workerId: string, info: WorkerExit) => void;
  /**
   * Set by the master before the first start, for launchers that can tell the job will not get
   * its workers (Kubernetes: no worker pod started within TORPEDO_K8S_START_TIMEOUT): the job
   * fails with `error`. Called at most once.
   */
  onFail?: (error: ErrorReport) => void;
  /**
   * Set by the master before the first start: something the job's owner should know about its
   * workers (some pods did not start, and why), kept in the job's events. Called rarely.
   */
  onEvent?: (message: string) => void;
  /**
   * Where the master listens for this launcher's workers when they have no network (sandboxed
   * local workers reach their master through a Unix socket bound into their sandbox); undefined:
   * the master listens on TCP. Read once, by the master, before it listens.
   */
  readonly masterSocket?: MasterSocket;
}

/** A Unix socket for the task protocol. */
export interface MasterSocket {
  /** The socket's path where the master creates it. */
  readonly path: string;
  /** Who may connect (the socket is made theirs, mode 0600); undefined: the master's own user. */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** The URL workers are given: `unix:` and the socket's path as they see it. */
  readonly url: string;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** The last lines the worker wrote to stderr, for error messages. */
  readonly stderrTail: string;
}
