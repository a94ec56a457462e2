import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { and, desc, eq, ilike, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EXAMPLE_NAMES } from '../../../examples/names.ts';
import { isTorpedoError, TorpedoError } from '../../errors.ts';
import { authenticate, caller, requestToken, verifyToken } from '../auth/authenticate.ts';
import type { ManagerContext } from '../context.ts';
import { jobs, users, type JobStatus } from '../database/schema.ts';
import { progressOf, type JobRow } from '../job-records.ts';
import type { Job, QueuePlace, SubmitRequest } from '../rest-types.ts';
import { jobSummaryView, jobView, storagePathRedactor } from '../job-view.ts';
import { checkDatasetName } from '../names.ts';
import { idParam, tag } from './schemas.ts';
import { visibleJob } from './visible-job.ts';
import { partContentType, partText } from '../part-text.ts';
import { settingProperties } from './setting-properties.ts';
import { z } from 'zod';
import { PodRequestSchema } from '../../protocol/pod-settings.ts';

/**
 * The `pods` field's JSON schema, from the one zod schema; bounds are checked at submit
 * (pod-policy.ts). Its unknown keys are left to zod, which refuses them by name: the server's
 * validator would drop them silently, and a user naming `imagePullSecrets` must hear no.
 */
const { $schema: _, additionalProperties: __, ...podsSchema } = z.toJSONSchema(PodRequestSchema, { target: 'draft-7', io: 'input' });

const submitBody = {
  type: 'object',
  required: ['inputs'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'a name to find the job by (GET /jobs?name=)' },
    example: { type: 'string', description: `a built-in job: ${EXAMPLE_NAMES.join(', ')}` },
    code: { type: 'string', maxLength: 1_000_000, description: 'a job module (TypeScript or JavaScript) as text' },
    language: { type: 'string', enum: ['ts', 'js'], default: 'ts' },
    inputs: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 },
    ...settingProperties(),
    params: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 100 },
    mapper: { type: 'string', minLength: 1, maxLength: 10_000, description: 'streaming job: command that maps input lines to key<TAB>value lines' },
    reducer: { type: 'string', minLength: 1, maxLength: 10_000, description: 'streaming job: command that reduces sorted key<TAB>value lines' },
    combiner: { type: 'string', minLength: 1, maxLength: 10_000, description: 'streaming job: optional map-side combiner command' },
    files: { type: 'object', additionalProperties: { type: 'string', maxLength: 1_000_000 }, maxProperties: 20, description: 'side files (name → text): a streaming job finds them in each task’s working directory, a JavaScript or TypeScript job reads them at ctx.files[name]' },
    pods: { ...podsSchema, description: "on Kubernetes: each worker's cpu and memory, nodeSelector, tolerations, priorityClassName, within the operator's bounds" },
  },
} as const;

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', pattern: `^(${STATUSES.join('|')})(,(${STATUSES.join('|')}))*$`, description: 'only jobs in these states, comma-separated (e.g. `succeeded,failed`)' },
    owner: { type: 'string', maxLength: 64, description: 'only the jobs of this user (admins; others see only their own)' },
    name: { type: 'string', maxLength: 200, description: 'only jobs whose name contains this, ignoring case' },
  },
} as const;

/** `%`, `_` and `\` stand for themselves in a LIKE pattern. */
function likeContaining(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Submit, list, inspect, follow, cancel, delete and rerun jobs, and read their output. */
export function jobsRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    const tracker = authenticate(db, ctx.tokens, ['track_jobs']);
    const submitter = authenticate(db, ctx.tokens, ['submit_jobs']);
    const s = ctx.scheduler;
    const redact = storagePathRedactor(ctx.config.home);

    app.post('/jobs', { schema: { ...tag('jobs', 'Submit a job'), body: submitBody }, preHandler: submitter }, async (request, reply) => {
      const body = request.body as SubmitRequest;
      for (const name of body.inputs) checkDatasetName(name);
      const id = await s.submit(caller(request).id, body);
      return reply.code(201).send({ id });
    });

    app.get(
      '/jobs',
      { schema: { ...tag('jobs', 'List your jobs, newest first (admins: everyone’s), by state, owner and name'), querystring: listQuery }, preHandler: tracker },
      async (request) => {
        const me = caller(request);
        const q = request.query as { status?: string; owner?: string; name?: string };
        const rows = await db
          .select({ j: jobs, owner: users.username })
          .from(jobs)
          .innerJoin(users, eq(users.id, jobs.ownerId))
          .where(
            and(
              me.roles.includes('admin') ? undefined : eq(jobs.ownerId, me.id),
              q.status !== undefined ? inArray(jobs.status, q.status.split(',') as JobStatus[]) : undefined,
              q.owner !== undefined ? sql`lower(${users.username}) = lower(${q.owner.normalize('NFKC')})` : undefined,
              q.name !== undefined ? ilike(jobs.name, likeContaining(q.name)) : undefined,
            ),
          )
          .orderBy(desc(jobs.createdAt))
          .limit(1000);
        const queue = rows.some((r) => r.j.status === 'queued') ? await s.queue() : new Map<string, QueuePlace>();
        return { jobs: rows.map((r) => jobSummaryView(r.j, r.owner, s.liveProgress(r.j.id), queue.get(r.j.id))) };
      },
    );

    app.get('/jobs/:id', { schema: { ...tag('jobs', 'A job: status, phases, tasks, counters, error; its place in the queue while queued'), params: idParam }, preHandler: tracker }, async (request) => {
      const { row, owner } = await visibleJob(db, request);
      const queue = row.status === 'queued' ? (await s.queue()).get(row.id) : undefined;
      return jobView(row, owner, s.live(row.id), s.outputFiles(row.id), redact, queue);
    });

    app.get(
      '/jobs/:id/events',
      { schema: { ...tag('jobs', 'Live progress as Server-Sent Events (also accepts ?token=)'), params: idParam }, preHandler: authenticate(db, ctx.tokens, ['track_jobs'], true) },
      async (request, reply) => {
        const { row, owner } = await visibleJob(db, request);
        const stream = new PassThrough();
        const send = (event: string, data: unknown): void => void stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        const full = async (): Promise<JobRow> => (await db.select().from(jobs).where(eq(jobs.id, row.id)))[0] ?? row;
        const ended = (r: JobRow): boolean => r.status !== 'queued' && r.status !== 'running';
        let unsubscribe = (): void => {};
        let finished = false;
        const finish = async (): Promise<void> => {
          if (finished) return;
          finished = true;
          unsubscribe();
          // The row as the database has it now; in an outage, what the stream began with.
          const last = await full().catch(() => row);
          send('job', jobView(last, owner, undefined, s.outputFiles(last.id), redact));
          stream.end();
        };
        unsubscribe = s.subscribe(row.id, (e) => {
          if (e.type === 'progress') send('progress', e.progress);
          else void finish();
        });
        request.raw.on('close', () => unsubscribe());
        const now = await full();
        const live = s.live(row.id);
        send('job', jobView(now, owner, live, s.outputFiles(row.id), redact));
        if (ended(now)) void finish();
        else if (live !== undefined) send('progress', { status: now.status, ...progressOf(live) });
        // Comments keep proxies from closing an idle stream.
        const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), 15_000);
        stream.on('close', () => clearInterval(keepAlive));
        // The token is checked again every 2 s as a request would be: the stream ends soon after a
        // logout, a password change, disabling or deleting the user, or the token's expiry, with
        // an `error` event that says why. A check the database could not answer is not a verdict.
        const token = requestToken(request, true) ?? '';
        const recheck = setInterval(() => {
          verifyToken(db, ctx.tokens, token, ['track_jobs']).catch((e: unknown) => {
            if (!isTorpedoError(e) || finished) return;
            finished = true;
            unsubscribe();
            send('error', { code: e.code, message: e.message });
            stream.end();
          });
        }, 2000);
        stream.on('close', () => clearInterval(recheck));
        request.raw.on('close', () => stream.destroy());
        return reply
          .header('content-type', 'text/event-stream; charset=utf-8')
          .header('cache-control', 'no-cache')
          .header('x-accel-buffering', 'no')
          .send(stream);
      },
    );

    const cancel = async (request: FastifyRequest): Promise<Job> => {
      const { row, owner } = await visibleJob(db, request);
      await s.cancel(row.id, `cancelled by ${caller(request).username}`);
      const after = (await db.select().from(jobs).where(eq(jobs.id, row.id)))[0] ?? row;
      return jobView(after, owner, undefined, [], redact);
    };

    app.post('/jobs/:id/cancel', { schema: { ...tag('jobs', 'Cancel a queued or running job (409 once it has ended)'), params: idParam }, preHandler: submitter }, cancel);

    app.delete(
      '/jobs/:id',
      { schema: { ...tag('jobs', 'A finished job: delete it with its output. A queued or running one: cancel it (as POST /jobs/:id/cancel)'), params: idParam }, preHandler: submitter },
      async (request) => {
        const { row } = await visibleJob(db, request);
        if (row.status === 'queued' || row.status === 'running') return cancel(request);
        if (!(await s.remove(row.id))) throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no job ${JSON.stringify(row.id)}`);
        return { id: row.id, deleted: true };
      },
    );

    app.post(
      '/jobs/:id/rerun',
      { schema: { ...tag('jobs', 'Submit a job again with the same spec, as a new job (201 with its id)'), params: idParam }, preHandler: submitter },
      async (request, reply) => {
        const { row } = await visibleJob(db, request);
        return reply.code(201).send({ id: await s.rerun(row) });
      },
    );

    app.get('/jobs/:id/output', { schema: { ...tag('jobs', 'The output: all part files concatenated, in order'), params: idParam }, preHandler: tracker }, async (request, reply) => {
      const { row } = await visibleJob(db, request);
      const parts = succeededParts(row);
      const out = new PassThrough();
      void (async () => {
        for (const part of parts) {
          for await (const chunk of createReadStream(join(s.outputDir(row.id), part))) {
            if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
          }
        }
        out.end();
      })().catch((e: unknown) => out.destroy(e as Error));
      // As stored: compressed parts concatenate into one valid file of their codec (many members).
      return reply.type(partContentType(parts[0] ?? '')).send(out);
    });

    app.get(
      '/jobs/:id/output/:part',
      {
        schema: {
          ...tag('jobs', 'One part file, as stored (part-r-00000.gz is gzip); with decompress=true, its text decompressed (what the UI previews)'),
          params: { type: 'object', properties: { id: { type: 'string' }, part: { type: 'string' } }, required: ['id', 'part'] },
          querystring: { type: 'object', properties: { decompress: { type: 'boolean', default: false, description: "decompress a compressed part by its name's codec" } } },
        },
        preHandler: tracker,
      },
      async (request, reply) => {
        const { row } = await visibleJob(db, request);
        const part = (request.params as { part: string }).part;
        // A part, or a named output's file (`good-r-00000`).
        succeededParts(row);
        if (!s.outputFiles(row.id).includes(part)) throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `job ${row.id} has no output part ${JSON.stringify(part)}`);
        const path = join(s.outputDir(row.id), part);
        if ((request.query as { decompress?: boolean }).decompress === true) return reply.type('text/plain; charset=utf-8').send(partText(path, part));
        return reply.type(partContentType(part)).send(createReadStream(path));
      },
    );

    function succeededParts(row: JobRow): string[] {
      if (row.status !== 'succeeded') throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${row.id} is ${row.status}; output exists once it has succeeded`);
      return s.outputParts(row.id);
    }
  };
}
