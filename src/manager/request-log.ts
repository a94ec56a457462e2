import type { FastifyRequest } from 'fastify';

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
