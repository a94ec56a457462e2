import type { ErrorReport } from '../protocol/messages.ts';

/** How many bad records one map task may skip. */
export const MAX_BAD_RECORDS = 100;
/** A record that made user code throw this many times is skipped by the task's next attempt. */
const FAILURES_TO_SKIP = 2;

/**
 * Skip mode (`--skip-bad-records`, the paper's section 4.6): the records of map tasks that made
 * user code throw. A failure that names a record (its byte offset) is charged to that record;
 * each bad record may fail twice, then later attempts skip it. Those failures come on top of
 * the task's own attempts, for up to MAX_BAD_RECORDS records per task.
 */
export class BadRecords {
  /** Per map task: failures per record offset. */
  readonly #failures = new Map<number, Map<number, number>>();

  /**
   * Notes a failed attempt of map task `task`; returns the extra failures the task may now have
   * beyond --max-attempts. Called once per failed attempt.
   */
  charge(task: number, error: ErrorReport): number {
    let bad = this.#failures.get(task);
    if (bad === undefined) this.#failures.set(task, (bad = new Map()));
    // The record's key: its offset, or (in a combined split's later files) one made unique.
    const record = error.record ?? error.offset;
    if (error.code === 'TORPEDO_ERR_USER_CODE' && record !== undefined) bad.set(record, (bad.get(record) ?? 0) + 1);
    let allowance = 0;
    for (const failures of [...bad.values()].slice(0, MAX_BAD_RECORDS)) allowance += Math.min(failures, FAILURES_TO_SKIP);
    return allowance;
  }

  /** The offsets that map task `task`'s next attempt skips: its records that failed twice. */
  skipList(task: number): number[] {
    const bad = this.#failures.get(task);
    if (bad === undefined) return [];
    return [...bad].filter(([, failures]) => failures >= FAILURES_TO_SKIP).map(([offset]) => offset);
  }
}
