import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TorpedoError } from '../errors.ts';
import type { HttpSettings } from './config.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes long uploads: its body must keep a minimum rate instead of arriving within a fixed time. */
    upload?: boolean;
  }
}

/**
 * Every request must arrive in bounded time, so that a client cannot hold connections (and
 * memory, and a file being written) by sending slowly:
 *
 * - headers within TORPEDO_HEADERS_TIMEOUT_SECONDS (Node's headersTimeout: a connection that has
 *   sent none, or not all, is answered 408 and closed; slowloris);
 * - a body within TORPEDO_BODY_TIMEOUT_SECONDS, or, on routes marked `config: { upload: true }`
 *   (datasets, up to TORPEDO_MAX_UPLOAD_BYTES), at least TORPEDO_UPLOAD_MIN_BYTES in every such
 *   window (`guardBodies`); a body cut this way answers TORPEDO_ERR_REQUEST_TIMEOUT (408), its
 *   connection is closed, and an upload keeps nothing (the dataset store removes its temp file);
 * - an idle kept-alive connection is closed after TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS.
 *
 * Node's own requestTimeout (a whole request, body included) stays off: a 10 GiB upload may
 * rightly take hours, so bodies are judged by their rate instead.
 */
export function serverTimeouts(http: HttpSettings) {
  return {
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: 0,
      // How often Node looks for connections past headersTimeout: a few times per timeout.
      connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(http.headersTimeoutMs / 4))),
    },
    requestTimeout: 0,
    keepAliveTimeout: http.keepAliveTimeoutMs,
  } as const;
}

/**
 * Whether a body has been too slow in the window just ended: a body that is not an upload is too
 * slow if it is not complete when its one window (the timeout) ends; an upload, if it brought
 * fewer than `minBytes` in the window. Called once per window per request with a body.
 */
export function tooSlow(rule: { readonly upload: boolean; readonly minBytes: number }, window: { readonly bytes: number; readonly complete: boolean }): boolean {
  if (window.complete) return false;
  return !rule.upload || window.bytes < rule.minBytes;
}

const CUT = Symbol('torpedo.bodyCut');

interface Guarded {
  [CUT]?: AbortController;
}

/**
 * Registers the body guard (a preParsing hook) on `app`, for the routes registered after it. A
 * request with a body is watched until the body has arrived: by the socket's byte count, every
 * TORPEDO_BODY_TIMEOUT_SECONDS. When it is too slow (`tooSlow`), the stream the route reads fails
 * with TORPEDO_ERR_REQUEST_TIMEOUT: for JSON and raw bodies the payload the hook hands on; for
 * multipart bodies, which @fastify/multipart reads from the raw request, the signal of
 * `bodyCutSignal`, which the upload route honours. The connection is closed once the answer has
 * gone (at the latest a few seconds later), or at once if the route has already answered.
 */
export function guardBodies(app: FastifyInstance, http: HttpSettings): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    const raw = request.raw;
    // inject() requests have no connection to hold, and a socket of their own making.
    if (raw.complete || !hasBody(raw) || !(raw.socket instanceof Socket)) return payload;
    const upload = request.routeOptions.config?.upload === true;
    const cut = new AbortController();
    (request as Guarded)[CUT] = cut;
    // @fastify/multipart reads request.raw itself; wrapping it would take its bytes.
    const multipart = /^multipart\/form-data/i.test(String(request.headers['content-type'] ?? ''));
    const guarded = multipart ? payload : passOn(payload, cut.signal);
    watch(raw, reply, { upload, minBytes: http.uploadMinBytes, windowMs: http.bodyTimeoutMs }, cut);
    return guarded;
  });
}

/**
 * Aborted, with the TORPEDO_ERR_REQUEST_TIMEOUT as its reason, when the guard cuts this
 * request's body; for routes that read the body from somewhere else than the payload (multipart).
 */
export function bodyCutSignal(request: FastifyRequest): AbortSignal | undefined {
  return (request as Guarded)[CUT]?.signal;
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

/** The payload as the parser or route will read it: the same bytes, failing with the cut's reason. */
function passOn(payload: Readable, signal: AbortSignal): Readable {
  const out = new PassThrough();
  payload.pipe(out);
  payload.on('error', (e) => out.destroy(e));
  // A client that goes away mid-body: the reader must not wait for an end that never comes.
  payload.on('close', () => {
    if (!(payload as IncomingMessage).complete) out.destroy(new Error('the client closed the connection before the body ended'));
  });
  signal.addEventListener('abort', () => {
    payload.unpipe(out);
    out.destroy(signal.reason as Error);
  });
  return out;
}

function watch(raw: IncomingMessage, reply: FastifyReply, rule: { upload: boolean; minBytes: number; windowMs: number }, cut: AbortController): void {
  const socket = raw.socket;
  let windowStart = socket.bytesRead;
  const timer = setInterval(() => {
    const bytes = socket.bytesRead - windowStart;
    windowStart = socket.bytesRead;
    if (raw.complete || socket.destroyed) return stop();
    if (!tooSlow(rule, { bytes, complete: raw.complete })) return;
    stop();
    const seconds = rule.windowMs / 1000;
    const reason = rule.upload
      ? `the upload brought ${bytes} bytes in ${seconds} s, less than the ${rule.minBytes} it must bring in each such window (TORPEDO_UPLOAD_MIN_BYTES); nothing was stored`
      : `the request body did not arrive within ${seconds} s (TORPEDO_BODY_TIMEOUT_SECONDS)`;
    if (reply.raw.headersSent) {
      socket.destroy();
      return;
    }
    void reply.header('connection', 'close');
    reply.raw.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref();
    cut.abort(new TorpedoError('TORPEDO_ERR_REQUEST_TIMEOUT', reason));
  }, rule.windowMs);
  const stop = (): void => clearInterval(timer);
  socket.once('close', stop);
}
