import type { FastifyInstance } from 'fastify';
import { checkAttemptId, listAttemptLogs, readAttemptLog } from '../../protocol/attempt-logs.ts';
import { authenticate } from '../auth/authenticate.ts';
import type { ManagerContext } from '../context.ts';
import type { AttemptLog } from '../rest-types.ts';
import { storagePathRedactor } from '../job-view.ts';
import { idParam, tag } from './schemas.ts';
import { visibleJob } from './visible-job.ts';

/** The most of a log one answer carries; a follower asks again from where it got to. */
const MAX_SLICE_BYTES = 8 << 20;

const logParams = {
  type: 'object',
  properties: { id: { type: 'string' }, attempt: { type: 'string', maxLength: 64 } },
  required: ['id', 'attempt'],
} as const;

const logQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { offset: { type: 'integer', minimum: 0, description: 'the first byte wanted: what a follower has already read (the last answer’s x-torpedo-log-next)' } },
} as const;

const logList = {
  type: 'object',
  properties: {
    logs: {
      type: 'array',
      items: {
        type: 'object',
        properties: { attemptId: { type: 'string' }, task: { type: 'string' }, attempt: { type: 'integer' }, bytes: { type: 'integer' } },
      },
    },
  },
} as const;

/**
 * Attempts' logs of a job (protocol/attempt-logs.ts: OUTPUT/_logs/<attemptId>.log), while it runs
 * and after it ended, until TORPEDO_LOG_RETENTION_DAYS removes them (manager/log-retention.ts).
 * Only the job's owner and admins see them: anyone else gets 404, as for the job itself. Storage
 * paths of the manager in them are shown job-relative, as in jobs' errors.
 */
export function logsRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    const tracker = authenticate(db, ctx.tokens, ['track_jobs']);
    const redact = storagePathRedactor(ctx.config.home);

    app.get(
      '/jobs/:id/logs',
      { schema: { ...tag('jobs', "The job's kept attempt logs: attempt id, task, attempt number, size"), params: idParam, response: { 200: logList } }, preHandler: tracker },
      async (request) => {
        const { row } = await visibleJob(db, request);
        // The REST type (rest-types.ts, which the UI imports) and the protocol's must agree: checked here.
        const logs: readonly AttemptLog[] = await listAttemptLogs(ctx.scheduler.outputDir(row.id));
        return { logs };
      },
    );

    app.get(
      '/jobs/:id/logs/:attempt',
      { schema: { ...tag('jobs', "One attempt's log as text, from ?offset= on; x-torpedo-log-next is where to ask from next"), params: logParams, querystring: logQuery }, preHandler: tracker },
      async (request, reply) => {
        const { row } = await visibleJob(db, request);
        const { attempt } = request.params as { attempt: string };
        checkAttemptId(attempt);
        const offset = (request.query as { offset?: number }).offset ?? 0;
        const slice = await readAttemptLog(ctx.scheduler.outputDir(row.id), attempt, offset, MAX_SLICE_BYTES);
        const next = Math.min(offset, slice.size) + slice.bytes.length;
        return reply
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('x-torpedo-log-next', String(next))
          .header('x-torpedo-log-size', String(slice.size))
          .header('x-torpedo-job-status', row.status)
          .send(redact(slice.bytes.toString('utf8')));
      },
    );
  };
}
