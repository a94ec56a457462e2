/**
 * The one seam between the engine and where it runs: how a job's workers are started and stopped.
 * The master calls `startWorker` to fill its pool of W workers and to replace dead ones, and
 * learns of deaths through `onExit` (which is faster than waiting for a lease to expire).
 */
export interface Launcher {
  /**
   * Starts one worker process (or pod) that connects to `masterUrl` with `token`. Called by the
   * master, W times at the start and once per replacement; never twice with the same id.
   */
  startWorker(workerId: string, masterUrl: string, token: string): void;
  /**
   * Stops one worker (it stopped heartbeating); `onExit` follows when it is gone. Idempotent;
   * an unknown or finished worker is ignored.
   */
  stopWorker(workerId: string): void;
  /**
   * Waits up to `graceMs` for every worker this launcher started to leave on its own (they do once
   * the master answers `exit`), then kills the rest. Idempotent.
   */
  stopAll(graceMs?: number): Promise<void>;
  /** Set by the master before the first startWorker; called once per worker that ends. */
  onExit: (workerId: string, info: WorkerExit) => void;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** The last lines the worker wrote to stderr, for error messages. */
  readonly stderrTail: string;
}
