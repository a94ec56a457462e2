import { setTimeout as sleep } from 'node:timers/promises';
import { TorpedoError } from '../errors.ts';

/**
 * The one place transient failures are retried: calls `fn` until it succeeds, it throws a
 * TorpedoError (a definite answer, never retried), or `giveUpMs` has passed. Backoff doubles from
 * 50 ms up to 2 s. The give-up time is measured on the monotonic clock, so that a wall-clock step
 * can neither give up at once nor retry for an hour.
 */
export async function withRetries<T>(fn: () => Promise<T>, opts: { giveUpMs: number; what: string }): Promise<T> {
  const deadline = performance.now() + opts.giveUpMs;
  let delay = 50;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TorpedoError || performance.now() + delay > deadline) {
        if (e instanceof TorpedoError) throw e;
        throw new TorpedoError('TORPEDO_ERR_MASTER_UNREACHABLE', `${opts.what} failed for ${opts.giveUpMs} ms, giving up: ${(e as Error).message}`);
      }
      await sleep(delay);
      delay = Math.min(2000, delay * 2);
    }
  }
}
