import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { TorpedoError } from '../../errors.ts';
import { metricsAccess } from '../auth/metrics-access.ts';
import type { ManagerContext } from '../context.ts';
import { jobs } from '../database/schema.ts';
import { tag } from './schemas.ts';

/** GET /healthz, /readyz, /metrics: for load balancers, Kubernetes probes and Prometheus. */
export function serviceRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/healthz', { schema: tag('service', 'The process is up', false) }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: tag('service', 'The database answers', false) }, async () => {
      try {
        await ctx.database.ping();
      } catch (e) {
        throw new TorpedoError('TORPEDO_ERR_NOT_READY', `the database does not answer: ${(e as Error).message}`);
      }
      return { status: 'ready', database: ctx.database.kind };
    });
    app.get('/metrics', { schema: tag('service', 'Prometheus metrics (the bearer token is TORPEDO_METRICS_TOKEN or an admin’s)'), preHandler: metricsAccess(ctx) }, async (_request, reply) => {
      return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
    });
  };
}

/** Jobs per status, for the `torpedo_jobs` gauge. */
export async function countJobs(ctx: Pick<ManagerContext, 'database'>): Promise<Record<string, number>> {
  const rows = await ctx.database.db
    .select({ status: jobs.status, n: sql<number>`count(*)::int` })
    .from(jobs)
    .groupBy(jobs.status);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
