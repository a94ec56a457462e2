import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** How long a device token is honoured; every successful login hands out a fresh one. */
export const DEVICE_TOKEN_TTL_SECONDS = 180 * 86400;

const ISSUER = 'torpedo';
const AUDIENCE = 'torpedo-login-device';

/**
 * The device tokens of OWASP's "device cookies" (Slow Down Online Guessing Attacks with Device
 * Cookies): a successful login hands the client one, naming the username and a random nonce, and
 * the client sends it with its later logins as that user. Failed logins that carry a valid one are
 * counted against that token alone (`LoginLimiter`), so a guessing attack on a username, which
 * has none, cannot lock out the devices its owner has logged in from.
 *
 * An HS256 JWT with a key derived from the manager's JWT secret for this one purpose, and its own
 * audience: it can never pass for an access token, nor an access token for it. It grants nothing
 * but a login budget of its own, so it is not revoked; a new JWT secret voids them all.
 */
export class DeviceTokens {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(jwtSecret: string, ttlSeconds = DEVICE_TOKEN_TTL_SECONDS) {
    this.#key = new Uint8Array(createHmac('sha256', jwtSecret).update('torpedo device token').digest());
    this.#ttlSeconds = ttlSeconds;
  }

  /** A new device token for `username` (a `usernameKey`); called after each successful login. */
  async issue(username: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ name: username })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(now)
      .setExpirationTime(now + this.#ttlSeconds)
      .sign(this.#key);
  }

  /**
   * The nonce of `token` if it is a device token this manager issued for `username` (a
   * `usernameKey`) that has not expired; undefined for anything else: forged, expired, malformed,
   * or another user's. A login with an undefined nonce counts as untrusted.
   */
  async nonceFor(token: string, username: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['jti', 'exp'] });
      return payload['name'] === username && typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined;
    }
  }
}
