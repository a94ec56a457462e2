import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { eq } from 'drizzle-orm';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { ERRORS, isNoSpace, isTorpedoError, type TorpedoError } from '../errors.ts';
import { TokenService } from './auth/token-service.ts';
import type { ManagerConfig } from './config.ts';
import type { ManagerContext } from './context.ts';
import type { Database } from './database/database.ts';
import { jobs } from './database/schema.ts';
import { isOutage, OUTAGE_RETRY_AFTER_SECONDS, outageError } from './database/outage.ts';
import { DatasetStore } from './dataset-store.ts';
import { withFrameAncestorsNone, X_FRAME_OPTIONS } from './frame-ancestors.ts';
import { JobScheduler } from './job-scheduler.ts';
import { ManagerMetrics } from './metrics.ts';
import { RequestLogController, requestLogFields } from './request-log.ts';
import { guardBodies, serverTimeouts } from './request-timeouts.ts';
import { authRoutes } from './routes/auth-routes.ts';
import { clusterRoutes } from './routes/cluster-routes.ts';
import { datasetsRoutes } from './routes/datasets-routes.ts';
import { jobsRoutes } from './routes/jobs-routes.ts';
import { logsRoutes } from './routes/logs-routes.ts';
import { LogRetention } from './log-retention.ts';
import { countJobs, serviceRoutes } from './routes/service-routes.ts';
import { uiRoutes } from './routes/ui-routes.ts';
import { usersRoutes } from './routes/users-routes.ts';
import { createUser, findUserByName } from './users.ts';

export interface Manager {
  readonly app: FastifyInstance;
  readonly context: ManagerContext;
  /** Listens on the configured host and port; resolves with the URL. */
  listen(): Promise<string>;
  /** Stops taking requests, stops running jobs' workers (they resume at the next start), closes the database. */
  close(): Promise<void>;
}

export interface ManagerOptions {
  /**
   * The manager's log (pino's JSON lines): true for stdout, or a stream of one's own; none if
   * unset. `level` is pino's (default info); reads that succeed, which is what the UI's polling
   * makes, are logged at debug.
   */
  readonly logger?: boolean | { readonly stream?: { write(line: string): void }; readonly level?: string };
  /** Lines for the operator (web UI build failures, leftovers removed); default: the log at info. */
  readonly log?: (line: string) => void;
  /**
   * Where a generated first admin password goes, once, as plain text: never into the log, which
   * more people read and which is kept. Default: stderr, on a line of its own (`printAdminPassword`).
   */
  readonly secret?: (password: string) => void;
}

/**
 * Builds the manager service on an open database: the Fastify app with every route, the job
 * scheduler, and the first admin account. Jobs interrupted by a previous stop are resumed.
 */
export async function createManager(config: ManagerConfig, database: Database, o: ManagerOptions = {}): Promise<Manager> {
  const logger =
    o.logger === undefined || o.logger === false
      ? false
      : { level: (o.logger === true ? undefined : o.logger.level) ?? 'info', serializers: { req: requestLogFields }, ...(o.logger === true || o.logger.stream === undefined ? {} : { stream: o.logger.stream }) };
  const app = Fastify({ logger, logController: new RequestLogController(), bodyLimit: 2 * 1024 * 1024, trustProxy: false, forceCloseConnections: true, ...serverTimeouts(config.http) });
  const log = o.log ?? ((line: string) => app.log.info(line));
  const db = database.db;
  const datasets = new DatasetStore(config.home, db, config.storage);
  const metrics = new ManagerMetrics({
    countJobs: () => countJobs({ database }),
    runningJobs: async () => (await db.select({ id: jobs.id }).from(jobs).where(eq(jobs.status, 'running'))).map(({ id }) => ({ id, snapshot: scheduler.live(id) })),
  });
  const scheduler: JobScheduler = new JobScheduler({ config, db, datasets, metrics, log });
  const context: ManagerContext = { config, database, tokens: new TokenService(config.jwtSecret, config.tokenTtlSeconds), datasets, scheduler, metrics };
  await ensureAdmin(context, log, o.secret ?? printAdminPassword);

  app.decorateRequest('user', null);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'TORPEDO_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (/^text\/html/i.test(String(reply.getHeader('content-type') ?? ''))) {
      const policy = reply.getHeader('content-security-policy');
      reply.header('content-security-policy', withFrameAncestorsNone(policy === undefined ? undefined : String(policy)));
      reply.header('x-frame-options', X_FRAME_OPTIONS);
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  guardBodies(app, config.http);
  // A coarse per-address limit on everything, against floods; failed logins have a tighter one.
  await app.register(rateLimit, {
    max: 6000,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, c) => ({
      statusCode: 429,
      error: { code: 'TORPEDO_ERR_RATE_LIMITED', message: `too many requests; try again in ${Math.ceil(c.ttl / 1000)} s` },
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'torpedo manager', version: '0.1.0', description: 'Accounts, datasets and MapReduce jobs. See docs/rest-api.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(serviceRoutes(context));
  await app.register(authRoutes(context));
  await app.register(usersRoutes(context));
  await app.register(datasetsRoutes(context));
  await app.register(jobsRoutes(context));
  await app.register(clusterRoutes(context));
  await app.register(logsRoutes(context));
  await app.register(uiRoutes(context, { log }));
  await app.ready();
  // Alone on its storage, a starting manager owns every leftover; replicas leave each other's
  // uploads in progress alone (an upload that stalls this long has been cut anyway).
  const leftovers = await datasets.removeLeftovers(config.launcher === 'local' ? 0 : LEFTOVER_AGE_MS);
  if (leftovers.length > 0) log(`removed ${leftovers.length} upload${leftovers.length === 1 ? '' : 's'} a stopped manager left unfinished: ${leftovers.join(', ')}`);
  await scheduler.start();
  const retention = new LogRetention({ db, outputDir: (id) => scheduler.outputDir(id), retentionMs: config.logRetentionMs, log });

  return {
    app,
    context,
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    async close() {
      await retention.stop();
      await app.close();
      await scheduler.stop();
      await database.close();
    },
  };
}

/** The generated admin password for whoever started the manager: stderr, alone on its line. */
export function printAdminPassword(password: string): void {
  process.stderr.write(`torpedo manager: created the account admin. Its password, shown only this once (change it with \`torpedo passwd\`):\n${password}\n`);
}

/**
 * On the first start (no users yet), creates `admin` with TORPEDO_ADMIN_PASSWORD or a random
 * password, which goes to `secret` alone; the log only says that it was made.
 */
async function ensureAdmin(ctx: ManagerContext, log: (line: string) => void, secret: (text: string) => void): Promise<void> {
  if ((await findUserByName(ctx.database.db, 'admin')) !== undefined) return;
  const given = ctx.config.adminPassword;
  const password = given ?? randomBytes(15).toString('base64url');
  try {
    await createUser(ctx.database.db, { username: 'admin', password, roles: ['admin'] });
  } catch (e) {
    if (isTorpedoError(e) && e.code === 'TORPEDO_ERR_CONFLICT') return; // another replica made it
    throw e;
  }
  if (given === undefined) {
    log('created the account admin with a generated password (printed once to stderr, not logged)');
    secret(password);
  } else log('created the account admin with the password from TORPEDO_ADMIN_PASSWORD');
}

/** Every error leaves as `{error: {code, message}}` with the status of its code. */
function errorHandler(error: FastifyError | TorpedoError | Error, request: { log: { error: (o: unknown, m: string) => void }; raw: { complete: boolean } }, reply: FastifyReply): void {
  let code: keyof typeof ERRORS = 'TORPEDO_ERR_INTERNAL';
  let message = error.message;
  const fe = error as FastifyError & { statusCode?: number; error?: { code?: string } };
  if (isTorpedoError(error)) {
    code = error.code;
    if (error.details.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.details.retryAfterSeconds));
  } else if (isNoSpace(error)) {
    // The path is the manager's own storage: the log has it, the caller gets the fact.
    request.log.error({ err: error }, 'storage full');
    code = 'TORPEDO_ERR_NO_SPACE';
    message = "the manager's storage is full: nothing of this request was kept; try again once its operator has freed space";
  } else if (isOutage(error)) {
    code = 'TORPEDO_ERR_DB_UNAVAILABLE';
    message = outageError().message;
    void reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
  } else if (fe.validation !== undefined) {
    code = 'TORPEDO_ERR_BAD_REQUEST';
  } else if (fe.statusCode === 429) {
    code = 'TORPEDO_ERR_RATE_LIMITED';
  } else if (fe.statusCode === 413 || fe.code === 'FST_REQ_FILE_TOO_LARGE') {
    code = 'TORPEDO_ERR_TOO_LARGE';
  } else if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    code = fe.statusCode === 404 ? 'TORPEDO_ERR_NOT_FOUND' : fe.statusCode === 401 ? 'TORPEDO_ERR_UNAUTHENTICATED' : 'TORPEDO_ERR_BAD_REQUEST';
  } else {
    request.log.error({ err: error }, 'request failed');
    message = 'internal error; see the manager log';
  }
  // Answered before the body was read to its end (a full disk, a refused upload): the rest of it
  // is still on the connection, so the connection is not reused.
  if (!request.raw.complete) void reply.header('connection', 'close');
  void reply.code(ERRORS[code].status).send({ error: { code, message } });
}

/** With replicas: how long an upload file must lie untouched before a starting replica removes it. */
const LEFTOVER_AGE_MS = 15 * 60_000;

export const MANAGER_DB_DIR = (home: string): string => join(home, 'db');
