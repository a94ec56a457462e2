import { timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import {
  CommitRequestSchema,
  DoneRequestSchema,
  FailedRequestSchema,
  HeartbeatRequestSchema,
  NextRequestSchema,
  RegisterRequestSchema,
} from '../protocol/messages.ts';

/** What the HTTP layer calls; the master implements it. Each handler returns the JSON reply. */
export interface ProtocolHandlers {
  register(req: z.infer<typeof RegisterRequestSchema>): unknown;
  next(req: z.infer<typeof NextRequestSchema>): Promise<unknown>;
  heartbeat(req: z.infer<typeof HeartbeatRequestSchema>): unknown;
  commit(req: z.infer<typeof CommitRequestSchema>): unknown;
  done(req: z.infer<typeof DoneRequestSchema>): unknown;
  failed(req: z.infer<typeof FailedRequestSchema>): unknown;
}

const ROUTES = {
  '/v1/register': ['register', RegisterRequestSchema],
  '/v1/next': ['next', NextRequestSchema],
  '/v1/heartbeat': ['heartbeat', HeartbeatRequestSchema],
  '/v1/commit': ['commit', CommitRequestSchema],
  '/v1/done': ['done', DoneRequestSchema],
  '/v1/failed': ['failed', FailedRequestSchema],
} as const;

const MAX_BODY = 4 << 20;

/**
 * The master's side of the task protocol over HTTP (node:http; the protocol is six JSON POSTs,
 * so a framework would add start-up time and nothing else). Requests need the per-job token.
 */
export class MasterServer {
  readonly #server: Server;
  readonly #token: Buffer;
  readonly #handlers: ProtocolHandlers;

  constructor(token: string, handlers: ProtocolHandlers) {
    this.#token = Buffer.from(`Bearer ${token}`);
    this.#handlers = handlers;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => reply(res, 500, { error: { code: 'TORPEDO_ERR_INTERNAL', message: String(e) } }));
    });
    this.#server.keepAliveTimeout = 60_000;
  }

  /** Listens on `host:port` (port 0: any free port) and returns the URL workers should use. */
  async listen(host = '127.0.0.1', port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    const addr = this.#server.address() as AddressInfo;
    const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${h}:${addr.port}`;
  }

  /**
   * Listens on a Unix socket at `path` instead (workers in sandboxes without a network reach
   * their master through it), readable and writable by `owner` only; returns `unix:PATH`.
   */
  async listenSocket(path: string, owner?: { uid: number; gid: number }): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
    return `unix:${path}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = ROUTES[req.url as keyof typeof ROUTES];
    if (req.method !== 'POST' || route === undefined) {
      return reply(res, 404, { error: { code: 'TORPEDO_ERR_PROTOCOL', message: `no such endpoint: ${req.method} ${req.url}` } });
    }
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== this.#token.length || !timingSafeEqual(auth, this.#token)) {
      return reply(res, 401, { error: { code: 'TORPEDO_ERR_PROTOCOL', message: 'missing or wrong job token' } });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      return reply(res, 400, { error: { code: 'TORPEDO_ERR_PROTOCOL', message: `bad request body: ${(e as Error).message}` } });
    }
    const [name, schema] = route;
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      return reply(res, 400, { error: { code: 'TORPEDO_ERR_PROTOCOL', message: parsed.error.message } });
    }
    const handler = this.#handlers[name] as (r: unknown) => unknown;
    reply(res, 200, await handler.call(this.#handlers, parsed.data));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
