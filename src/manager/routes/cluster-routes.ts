import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { authenticate } from '../auth/authenticate.ts';
import type { ManagerContext } from '../context.ts';
import { jobs, users } from '../database/schema.ts';
import type { ClusterView, ClusterWorker } from '../rest-types.ts';
import { tag } from './schemas.ts';

/**
 * GET /cluster, for admins: every running job's workers with the attempts each runs, and their
 * CPU time and RSS as the workers' heartbeats report them (through the job's master: its live
 * state here, or its status file on a cluster). A worker is known by the attempts it was given,
 * so one that has not yet been given a task is not listed.
 */
export function clusterRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    const admin = authenticate(db, ctx.tokens, ['admin']);
    app.get('/cluster', { schema: tag('cluster', 'Running jobs’ workers, what each runs, CPU and RSS per attempt (admins)'), preHandler: admin }, async (): Promise<ClusterView> => {
      const running = await db
        .select({ id: jobs.id, name: jobs.name, owner: users.username })
        .from(jobs)
        .innerJoin(users, eq(users.id, jobs.ownerId))
        .where(eq(jobs.status, 'running'))
        .orderBy(jobs.startedAt);
      const queued = await db.$count(jobs, eq(jobs.status, 'queued'));
      const workers: ClusterWorker[] = [];
      for (const job of running) {
        const byWorker = new Map<string, ClusterWorker['running'][number][]>();
        for (const t of ctx.scheduler.live(job.id)?.tasks ?? []) {
          for (const a of t.attempts) {
            const list = byWorker.get(a.worker) ?? [];
            byWorker.set(a.worker, list);
            if (a.state !== 'running') continue;
            list.push({
              id: a.id,
              kind: t.kind,
              index: t.index,
              backup: a.backup,
              startedAt: new Date(a.startedAt).toISOString(),
              ...(a.cpuMs !== undefined ? { cpuMs: a.cpuMs } : {}),
              ...(a.rssBytes !== undefined ? { rssBytes: a.rssBytes } : {}),
            });
          }
        }
        for (const [worker, attempts] of [...byWorker].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
          workers.push({ worker, job: job.id, jobName: job.name, owner: job.owner, running: attempts });
        }
      }
      return {
        runningJobs: running.length,
        queuedJobs: queued,
        maxRunningJobs: ctx.config.maxRunningJobs,
        maxRunningJobsPerUser: ctx.config.limits.maxRunningJobsPerUser,
        workers,
      };
    });
  };
}
