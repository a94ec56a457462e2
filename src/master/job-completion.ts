import { explainNoSpace, isTorpedoError } from '../errors.ts';
import type { ErrorReport } from '../protocol/messages.ts';
import type { ChangeSignal } from './change-signal.ts';
import { commitJob } from './commit-job.ts';
import type { JobLayout } from './job-layout.ts';
import type { JobPhases } from './job-phases.ts';
import type { JobTasks } from './job-tasks.ts';
import type { WorkerPool } from './worker-pool.ts';
import type { PartCompression } from '../protocol/task-names.ts';

/** What the completion works on: the master's phases, tasks, workers and job directory. */
export interface CompletionParts {
  readonly phases: JobPhases;
  readonly tasks: JobTasks;
  readonly workers: WorkerPool;
  readonly layout: JobLayout;
  readonly reducers: number;
  /** The codec of the part files, which names them in the output (`part-r-00000.gz`). */
  readonly outputCompression?: PartCompression;
  readonly changes: ChangeSignal;
  /** How long lingering local workers get before they are killed at commit. */
  readonly stopGraceMs: number;
}

/**
 * A job's way to its end: moving to the next phase when one is complete, the job commit, and
 * failing. `ended` settles once, when the job has succeeded (committed) or failed; the first
 * failure is the job's error, later ones are ignored.
 */
export class JobCompletion {
  /** Settles when the job has ended, either way. */
  readonly ended: Promise<void>;
  readonly #o: CompletionParts;
  #end!: () => void;
  #error: ErrorReport | undefined;
  #committing = false;
  /** Aborted when the job fails, so that a commit under way writes no `_SUCCESS`. */
  readonly #failed = new AbortController();

  constructor(o: CompletionParts) {
    this.#o = o;
    this.ended = new Promise<void>((resolve) => (this.#end = resolve));
  }

  /** Why the job failed, once it has. */
  get error(): ErrorReport | undefined {
    return this.#error;
  }

  /** Moves to the next phase when the current one is complete (a task was done); commits the job at the end. */
  advance(): void {
    const { phases, tasks, changes } = this.#o;
    const phase = phases.advance((kind) => tasks.tables[kind].finished);
    changes.notify();
    if (phase === 'commit' && !this.#committing) {
      this.#committing = true;
      void this.#commit();
    }
  }

  /** Ends the job as failed with `error`; ignored once it has ended. */
  fail(error: ErrorReport): void {
    if (this.#o.phases.ended) return;
    this.#error = error;
    this.#o.phases.fire('fail');
    this.#failed.abort();
    this.#o.changes.notify();
    this.#end();
  }

  /**
   * Job commit. Local workers run users' code under a uid of their own, in the directories this
   * commit moves and removes: none may be running while it does (a worker could swap a checked
   * entry for a link). They have been told to exit; those that linger are killed. A pool's
   * workers (pods) are not ours to stop, and run as the master's own uid.
   */
  async #commit(): Promise<void> {
    const { phases, workers, layout, reducers, changes, stopGraceMs, outputCompression } = this.#o;
    if (!workers.selfManaged) await workers.stopAll(stopGraceMs);
    if (phases.current !== 'commit') return; // aborted meanwhile
    try {
      await commitJob(layout, reducers, this.#failed.signal, outputCompression, this.#o.tasks.tables.map.tasks.length);
      phases.fire('committed');
    } catch (e) {
      // A full storage is TORPEDO_ERR_NO_SPACE naming the path; a resume finishes the commit. A
      // failure during the commit (an abort) has already ended the job: this one is ignored.
      const error = explainNoSpace(e);
      this.fail({ code: isTorpedoError(error) ? error.code : 'TORPEDO_ERR_TASK_FAILED', message: `job commit failed: ${(error as Error).message}` });
    }
    changes.notify();
    this.#end();
  }
}
