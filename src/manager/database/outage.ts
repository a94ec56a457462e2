import { setTimeout as sleep } from 'node:timers/promises';
import { TorpedoError } from '../../errors.ts';

/** Retry-After of a 503 while the database does not answer. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Node's socket errors of a server that is gone, restarting or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * PostgreSQL's SQLSTATEs of a server that cannot serve now: class 08 (connection exception),
 * 57P01–57P03 (shut down by the administrator, crash shutdown, starting up) and 53300 (too many
 * connections).
 */
const SERVER_CODES = /^(08...|57P0[123]|53300)$/;
/** What node-postgres says of a connection that broke or never came (no code of its own). */
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Client was closed/i;

/**
 * Whether `e` (or an error it wraps: drizzle wraps the driver's as `cause`) says the database does
 * not answer, rather than that the query was wrong: an outage, which passes.
 */
export function isOutage(e: unknown): boolean {
  for (let err = e, depth = 0; err instanceof Error && depth < 5; err = err.cause, depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_CODES.test(code))) return true;
    if (MESSAGES.test(err.message)) return true;
  }
  return false;
}

/** The driver's own words for an error (drizzle's message is the failed query), for the log. */
export function outageReason(e: unknown): string {
  let err = e;
  while (err instanceof Error && err.cause instanceof Error) err = err.cause;
  return err instanceof Error ? err.message : String(err);
}

/** The 503 the API answers while the database does not answer. */
export function outageError(): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_DB_UNAVAILABLE', `the manager's database does not answer; try again in ${OUTAGE_RETRY_AFTER_SECONDS} s`, {
    retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
  });
}

/**
 * Runs `write` until it succeeds, waiting out outages (every `everyMs`, logging the first and the
 * recovery); any other error is thrown at once. For what must not be lost while the database is
 * down: a job's end, once the job has ended.
 */
export async function untilSaved<T>(what: string, write: () => Promise<T>, o: { log: (line: string) => void; everyMs?: number; stopped?: () => boolean }): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      const result = await write();
      if (failures > 0) o.log(`the database answers again: ${what} saved after ${failures} attempt${failures === 1 ? '' : 's'}`);
      return result;
    } catch (e) {
      if (!isOutage(e) || o.stopped?.() === true) throw e;
      if (failures === 0) o.log(`the database does not answer (${outageReason(e)}): ${what} is kept and saved once it does`);
      await sleep(o.everyMs ?? 1000);
    }
  }
}
