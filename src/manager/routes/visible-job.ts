import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import { caller } from '../auth/authenticate.ts';
import type { Db } from '../database/database.ts';
import { jobs, users } from '../database/schema.ts';
import type { JobRow } from '../job-records.ts';

/**
 * The job a request's `:id` names, with its owner's name, if the caller may see it: their own or,
 * for admins, anyone's. Another user's job is TORPEDO_ERR_NOT_FOUND (404), as a job that does not
 * exist: ids are not an oracle. Used by every route under `/jobs/:id` (jobs, logs).
 */
export async function visibleJob(db: Db, request: FastifyRequest): Promise<{ row: JobRow; owner: string }> {
  const me = caller(request);
  const id = (request.params as { id: string }).id;
  const found = (await db.select({ j: jobs, owner: users.username }).from(jobs).innerJoin(users, eq(users.id, jobs.ownerId)).where(eq(jobs.id, id)).limit(1))[0];
  if (found === undefined || (found.j.ownerId !== me.id && !me.roles.includes('admin'))) {
    throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no job ${JSON.stringify(id)}`);
  }
  return { row: found.j, owner: found.owner };
}
