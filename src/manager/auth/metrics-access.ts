import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import type { ManagerContext } from '../context.ts';
import { requestToken, verifyToken } from './authenticate.ts';

/**
 * The preHandler of GET /metrics. The metrics name routes, counts users' jobs and time requests,
 * which is more than anyone on the network should learn, so they need a bearer token: the
 * setting TORPEDO_METRICS_TOKEN (what a Prometheus scraper is given), or an admin's token.
 * Without the setting only admins' tokens are accepted.
 */
export function metricsAccess(ctx: ManagerContext): preHandlerAsyncHookHandler {
  const expected = ctx.config.http.metricsToken;
  return async (request: FastifyRequest) => {
    const token = requestToken(request, false);
    if (token === undefined) {
      throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', `/metrics needs Authorization: Bearer <token>: ${expected !== undefined ? 'TORPEDO_METRICS_TOKEN or ' : ''}an admin's token`);
    }
    if (expected !== undefined && sameSecret(token, expected)) return;
    request.user = await verifyToken(ctx.database.db, ctx.tokens, token, ['admin']);
  };
}

/** Compares in time that does not depend on where the two differ (or on their lengths: both are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
