import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * How a request appears in the manager's log (pino, through Fastify): Fastify's default fields,
 * with the query string's values replaced by `[redacted]`. A query can carry a secret (the SSE
 * route takes `?token=` because EventSource cannot send headers) and the log is read by more
 * people than the tokens are meant for; every value goes, not just `token`, so that a parameter
 * added later cannot leak one. Called by pino for every log line that has a `req`.
 */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

const REDACTED = '[redacted]';
/** A key that reads as a parameter name; any other key may itself be a secret. */
const KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * `/jobs/1/events?token=abc` → `/jobs/1/events?token=[redacted]`; the path is kept as it is. A
 * part without `=` (`?eyJ…`) is all value, so it goes whole, like a pair with an odd key.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      if (pair === '') return '';
      const eq = pair.indexOf('=');
      return eq > 0 && KEY.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=${REDACTED}` : REDACTED;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/**
 * The level a finished request is logged at: a read that succeeded is debug, so that the UI's
 * polling (a few GETs a second per open page) does not fill the log; changes and failures are info.
 */
export function requestLogLevel(method: string, status: number): 'debug' | 'info' {
  return (method === 'GET' || method === 'HEAD') && status < 400 ? 'debug' : 'info';
}

/**
 * One log line per request, when it ends, with the request and the response, at
 * `requestLogLevel`'s level, instead of Fastify's two at info ("incoming request", "request
 * completed"). Called by Fastify for every request; errors are logged as Fastify does.
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    else reply.log[requestLogLevel(request.method, reply.statusCode)]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
