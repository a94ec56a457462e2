import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { and, isNotNull, lt } from 'drizzle-orm';
import { attemptLogsDir } from '../protocol/attempt-logs.ts';
import type { Db } from './database/database.ts';
import { jobs } from './database/schema.ts';

/** The longest wait between two sweeps; a short retention (tests) sweeps more often. */
const MAX_SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Removes the attempts' logs (OUTPUT/_logs/) of jobs that ended more than `retentionMs` ago, and
 * nothing else of them: their rows, outputs and errors stay. Returns the ids of the jobs whose
 * logs it removed. Called by the LogRetention timer; idempotent (a job's logs go once, a second
 * sweep finds nothing to remove), so replicas may sweep the same storage.
 */
export async function removeExpiredLogs(db: Db, outputDir: (id: string) => string, retentionMs: number, now = Date.now()): Promise<string[]> {
  const cutoff = new Date(now - retentionMs);
  const ended = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(isNotNull(jobs.finishedAt), lt(jobs.finishedAt, cutoff)));
  const removed: string[] = [];
  for (const { id } of ended) {
    const dir = attemptLogsDir(outputDir(id));
    if (!existsSync(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}

/**
 * The manager's sweep of old logs (TORPEDO_LOG_RETENTION_DAYS): every ten minutes, or every half
 * retention when that is shorter (at least every second). A retention of 0 keeps logs for ever.
 * A sweep that fails (a database outage) is logged and tried again at the next tick.
 */
export class LogRetention {
  readonly #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> = Promise.resolve();

  constructor(o: { db: Db; outputDir: (id: string) => string; retentionMs: number; log: (line: string) => void }) {
    if (o.retentionMs <= 0) return;
    const every = Math.max(1000, Math.min(MAX_SWEEP_EVERY_MS, o.retentionMs / 2));
    this.#timer = setInterval(() => {
      this.#sweeping = this.#sweeping
        .then(() => removeExpiredLogs(o.db, o.outputDir, o.retentionMs))
        .then(
          (ids) => {
            if (ids.length > 0) o.log(`removed the attempt logs of ${ids.length} job${ids.length === 1 ? '' : 's'} that ended over the log retention ago: ${ids.join(', ')}`);
          },
          (e: unknown) => o.log(`removing old attempt logs failed (tried again in ${every} ms): ${(e as Error).message}`),
        );
    }, every);
    this.#timer.unref();
  }

  /** Stops sweeping; waits for a sweep under way. Called by the manager's close. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#sweeping;
  }
}
