import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { TorpedoError } from '../../errors.ts';

export interface TokenClaims {
  readonly userId: number;
  readonly jti: string;
  /** The user's token version when it was issued; a newer version revokes it. */
  readonly version: number;
  readonly expiresAt: Date;
}

const ISSUER = 'torpedo';

/** Issues and verifies the manager's access tokens: HS256 JWTs with a token id (`jti`). */
export class TokenService {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.#key = new TextEncoder().encode(secret);
    this.#ttlSeconds = ttlSeconds;
  }

  async issue(user: { id: number; username: string; tokenVersion: number }): Promise<{ token: string; claims: TokenClaims }> {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.#ttlSeconds;
    const token = await new SignJWT({ name: user.username, ver: user.tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(String(user.id))
      .setJti(jti)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, claims: { userId: user.id, jti, version: user.tokenVersion, expiresAt: new Date(exp * 1000) } };
  }

  /** Checks signature, algorithm, issuer and expiry; throws TORPEDO_ERR_UNAUTHENTICATED otherwise. */
  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['sub', 'jti', 'exp'] });
      const userId = Number(payload.sub);
      if (!Number.isSafeInteger(userId) || typeof payload['ver'] !== 'number' || typeof payload.jti !== 'string') throw new Error('malformed claims');
      return { userId, jti: payload.jti, version: payload['ver'], expiresAt: new Date((payload.exp as number) * 1000) };
    } catch (e) {
      const expired = (e as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', expired ? 'the token has expired; log in again' : 'the token is invalid; log in again');
    }
  }
}
