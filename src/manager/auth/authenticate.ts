import { eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import type { Db } from '../database/database.ts';
import { revokedTokens } from '../database/schema.ts';
import { hasAnyRole, type Role } from '../roles.ts';
import { findUserById } from '../users.ts';
import type { TokenService } from './token-service.ts';

/** The caller of an authenticated request, loaded fresh from the database each time. */
export interface AuthUser {
  readonly id: number;
  readonly username: string;
  readonly roles: readonly string[];
  readonly jti: string;
  readonly expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

/**
 * A preHandler that admits a request only with a valid token of an enabled user holding one of
 * `roles` (any role if empty), checked by `verifyToken`. `?token=` is accepted where
 * `allowQueryToken` (for EventSource, which cannot send headers).
 */
export function authenticate(db: Db, tokens: TokenService, roles: readonly Role[] = [], allowQueryToken = false): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = requestToken(request, allowQueryToken);
    if (token === undefined) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'this request needs a token: Authorization: Bearer <token> (POST /auth/login)');
    request.user = await verifyToken(db, tokens, token, roles);
  };
}

/**
 * The user a token admits, checked as every authenticated request checks it: signature, issuer and
 * expiry, not revoked by logout, the user exists and is enabled, the token version is current (a
 * password change or disabling bumps it), and the user holds one of `roles` (any if empty). Roles
 * and the disabled flag are read from the database, not from the token, so a change applies at
 * once. Called by `authenticate` once per request, and again every few seconds by a long-lived
 * response (the SSE stream) to end it once its token no longer holds. Throws
 * TORPEDO_ERR_UNAUTHENTICATED or TORPEDO_ERR_FORBIDDEN; other errors are the database's.
 */
export async function verifyToken(db: Db, tokens: TokenService, token: string, roles: readonly Role[] = []): Promise<AuthUser> {
  const claims = await tokens.verify(token);
  const revoked = await db
    .select({ jti: revokedTokens.jti })
    .from(revokedTokens)
    .where(eq(revokedTokens.jti, claims.jti))
    .limit(1);
  if (revoked.length > 0) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'the token was revoked (logged out); log in again');
  const user = await findUserById(db, claims.userId);
  if (user === undefined) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'the token belongs to a user that no longer exists');
  if (user.disabled) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', `the user ${JSON.stringify(user.username)} is disabled`);
  if (user.tokenVersion !== claims.version) {
    throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', 'the token was revoked (password changed or account disabled); log in again');
  }
  if (roles.length > 0 && !hasAnyRole(user.roles, roles)) {
    throw new TorpedoError('TORPEDO_ERR_FORBIDDEN', `this request needs the role ${roles.join(' or ')}; ${user.username} has ${user.roles.join(', ') || 'none'}`);
  }
  return { id: user.id, username: user.username, roles: user.roles, jti: claims.jti, expiresAt: claims.expiresAt };
}

/** The bearer token of a request: the Authorization header, else (where allowed) `?token=`. */
export function requestToken(request: FastifyRequest, allowQueryToken: boolean): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m?.[1];
  }
  if (allowQueryToken) {
    const q = (request.query as Record<string, unknown> | undefined)?.['token'];
    if (typeof q === 'string' && q !== '') return q;
  }
  return undefined;
}

/** The authenticated caller; only for handlers behind `authenticate`. */
export function caller(request: FastifyRequest): AuthUser {
  if (request.user === null) throw new TorpedoError('TORPEDO_ERR_INTERNAL', 'route is missing its authenticate preHandler');
  return request.user;
}
