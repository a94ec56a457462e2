import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TorpedoError } from '../../errors.ts';
import { authenticate, caller, type AuthUser } from '../auth/authenticate.ts';
import type { ManagerContext } from '../context.ts';
import { datasetView, tooLarge } from '../dataset-store.ts';
import { checkDatasetName, checkUsername } from '../names.ts';
import { bodyCutSignal } from '../request-timeouts.ts';
import { findUserByName } from '../users.ts';
import { datasetSchema, nameParam, tag } from './schemas.ts';

const ownerQuery = { type: 'object', properties: { owner: { type: 'string', description: "admins only: another user's dataset" } } } as const;

/** Upload, list, download and delete datasets; each user has their own namespace. */
export function datasetsRoutes(ctx: ManagerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const db = ctx.database.db;
    const reader = authenticate(db, ctx.tokens, ['read_storage']);
    const writer = authenticate(db, ctx.tokens, ['write_storage']);

    // In this plugin every body is an upload: stream it as it comes, whatever its content type
    // (a JSON file must not be parsed as JSON); multipart/form-data is unpacked to its file part.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    await app.register(multipart, { limits: { files: 1, fileSize: ctx.config.maxUploadBytes + 1, fields: 10 } });

    app.post(
      '/datasets',
      {
        schema: {
          ...tag('datasets', 'Upload a dataset: the raw body, or the file part of multipart/form-data'),
          querystring: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, overwrite: { type: 'boolean' } } },
          response: { 201: datasetSchema },
        },
        preHandler: writer,
        bodyLimit: Number.MAX_SAFE_INTEGER,
        // Long uploads: judged by their rate, not by a fixed time (request-timeouts.ts).
        config: { upload: true },
      },
      async (request, reply) => {
        const me = caller(request);
        const query = request.query as { name: unknown; overwrite?: boolean };
        const name = checkDatasetName(query.name);
        const max = ctx.config.maxUploadBytes;
        const declared = Number(request.headers['content-length'] ?? NaN);
        if (declared > max + (request.isMultipart() ? 64 * 1024 : 0)) throw tooLarge(max);
        const body = await uploadStream(request);
        const row = await ctx.datasets.save(me.id, name, body, { overwrite: query.overwrite === true, maxBytes: max });
        return reply.code(201).send(datasetView(row, me.username));
      },
    );

    app.get('/datasets', { schema: { ...tag('datasets', 'List your datasets (admins: everyone’s)'), response: { 200: { type: 'object', properties: { datasets: { type: 'array', items: datasetSchema } } } } }, preHandler: reader }, async (request) => {
      const me = caller(request);
      return { datasets: await ctx.datasets.list(me.roles.includes('admin') ? undefined : me.id) };
    });

    app.get('/datasets/:name', { schema: { ...tag('datasets', 'Download a dataset'), params: nameParam, querystring: ownerQuery }, preHandler: reader }, async (request, reply) => {
      const { ownerId, name } = await target(request);
      const row = await ctx.datasets.find(ownerId, name);
      if (row === undefined) throw notFound(name);
      return reply
        .type('application/octet-stream')
        .header('content-length', row.size)
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(ctx.datasets.open(ownerId, name));
    });

    app.delete('/datasets/:name', { schema: { ...tag('datasets', 'Delete a dataset'), params: nameParam, querystring: ownerQuery }, preHandler: writer }, async (request, reply) => {
      const { ownerId, name } = await target(request);
      if ((await ctx.datasets.find(ownerId, name)) === undefined) throw notFound(name);
      const users = await ctx.scheduler.activeJobsReading(ownerId, name);
      if (users.length > 0) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `dataset ${JSON.stringify(name)} is an input of job ${users.join(', ')}, which has not ended`);
      await ctx.datasets.remove(ownerId, name);
      return reply.code(204).send();
    });

    /** The dataset a request names: the caller's own, or (admins, `?owner=`) someone else's. */
    async function target(request: FastifyRequest): Promise<{ ownerId: number; name: string }> {
      const me: AuthUser = caller(request);
      const name = checkDatasetName((request.params as { name: string }).name);
      const owner = (request.query as { owner?: string }).owner;
      if (owner === undefined) return { ownerId: me.id, name };
      const user = await findUserByName(db, checkUsername(owner));
      if (user?.id === me.id) return { ownerId: me.id, name };
      if (user === undefined || !me.roles.includes('admin')) throw notFound(name);
      return { ownerId: user.id, name };
    }
  };
}

/**
 * The bytes of the upload. A raw body is the payload, which the body guard fails when it is too
 * slow; a multipart body is read by @fastify/multipart from the raw request, so here the guard's
 * signal ends the wait for the file part, or the file part itself.
 */
async function uploadStream(request: FastifyRequest): Promise<Readable> {
  if (!request.isMultipart()) return request.body as Readable;
  const cut = bodyCutSignal(request);
  const part = await untilCut(request.file(), cut);
  if (part === undefined) throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', 'the multipart body has no file part');
  cut?.addEventListener('abort', () => part.file.destroy(cut.reason as Error));
  return part.file;
}

function untilCut<T>(promise: Promise<T>, cut: AbortSignal | undefined): Promise<T> {
  if (cut === undefined) return promise;
  if (cut.aborted) return Promise.reject(cut.reason as Error);
  return Promise.race([promise, new Promise<never>((_resolve, reject) => cut.addEventListener('abort', () => reject(cut.reason as Error)))]);
}

function notFound(name: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no dataset ${JSON.stringify(name)}`);
}
