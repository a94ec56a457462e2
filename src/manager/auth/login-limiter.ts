import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { TorpedoError } from '../../errors.ts';

/**
 * Who is trying to log in, as OWASP's device-cookie scheme tells them apart: a client that sends a
 * valid device token for the username (`DeviceTokens`) is that device; any other is an untrusted
 * client of that username, whatever its address.
 */
export type LoginClient = { readonly device: string } | { readonly untrusted: string };

/**
 * Limits failed logins: at most `attempts` failures per `windowMs` for each device token, and as
 * many for all untrusted clients of one username together. Beyond that the client gets 429 with
 * Retry-After until the window passes, even with the right password. Nothing is counted per
 * address, so failures for many usernames from one address lock nobody else out; and a username
 * under a guessing attack still logs in from the devices its owner used before.
 *
 * The counts live in this process (rate-limiter-flexible's memory store): a restart, or another
 * replica, starts afresh.
 */
export class LoginLimiter {
  readonly #failures: RateLimiterMemory;

  constructor(attempts: number, windowMs: number) {
    this.#failures = new RateLimiterMemory({ points: attempts, duration: Math.ceil(windowMs / 1000) });
  }

  /** Called before the password is checked; throws TORPEDO_ERR_RATE_LIMITED when `client` has no attempts left. */
  async refuseIfLimited(client: LoginClient): Promise<void> {
    const state = await this.#failures.get(keyOf(client));
    if (state !== null && state.consumedPoints >= this.#failures.points) throw tooMany(client, state);
  }

  /** Called after each failed attempt. */
  async failed(client: LoginClient): Promise<void> {
    await this.#failures.penalty(keyOf(client));
  }

  /**
   * Called after a successful login. A device's count starts again (its holder knows the
   * password); an untrusted username's does not, or the user's own login would hand an attacker
   * guessing their password a fresh budget.
   */
  async succeeded(client: LoginClient): Promise<void> {
    if ('device' in client) await this.#failures.delete(keyOf(client));
  }
}

function keyOf(client: LoginClient): string {
  return 'device' in client ? `device:${client.device}` : `untrusted:${client.untrusted}`;
}

function tooMany(client: LoginClient, state: RateLimiterRes): TorpedoError {
  const seconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  const message =
    'device' in client
      ? `too many failed logins from this device; try again in ${seconds} s`
      : `too many failed logins for this username; try again in ${seconds} s, or log in from a device you have logged in from before`;
  return new TorpedoError('TORPEDO_ERR_RATE_LIMITED', message, { retryAfterSeconds: seconds });
}
