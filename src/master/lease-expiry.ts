import type { RunningAttempt } from './job-tasks.ts';
import type { LossCause } from './loss-cause.ts';

export interface Expiry {
  readonly running: RunningAttempt;
  /** `timeout`: it ran past the task time limit; `lease`: its worker stopped heartbeating. */
  readonly cause: Extract<LossCause, { kind: 'timeout' | 'lease' }>;
}

/**
 * The running attempts whose time is up at `now`, in the order given: those that ran longer
 * than `taskTimeoutMs` (0: no limit), and those not heard from for `leaseTimeoutMs`. An attempt
 * that is both counts as timed out. Pure; the master calls it every half lease.
 */
export function expiredAttempts(running: readonly RunningAttempt[], now: number, leaseTimeoutMs: number, taskTimeoutMs: number): Expiry[] {
  const out: Expiry[] = [];
  for (const r of running) {
    const { attempt } = r;
    if (taskTimeoutMs > 0 && now - attempt.startedAt > taskTimeoutMs) out.push({ running: r, cause: { kind: 'timeout', workerId: attempt.workerId, limitMs: taskTimeoutMs } });
    else if (now - attempt.lastHeartbeat > leaseTimeoutMs) out.push({ running: r, cause: { kind: 'lease', workerId: attempt.workerId, silentMs: leaseTimeoutMs } });
  }
  return out;
}

/** How often the master looks for expired attempts: often enough to notice within half a limit. */
export function expiryCheckMs(leaseTimeoutMs: number, taskTimeoutMs: number): number {
  return Math.min(1000, leaseTimeoutMs / 2, taskTimeoutMs > 0 ? taskTimeoutMs / 2 : Infinity);
}
