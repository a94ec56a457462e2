import { Agent, request } from 'node:http';
import { TorpedoError } from '../errors.ts';
import {
  PROTOCOL_ROUTES,
  type AttemptUsage,
  type CommitResponse,
  type HeartbeatResponse,
  type JobInfo,
  type NextResponse,
  type ProtocolRoute,
  type RequestOf,
  type ResponseOf,
} from './messages.ts';
import { withRetries } from './retry.ts';
import { firstIssue } from './schema-issue.ts';

/**
 * The worker's side of the task protocol. Transient network errors are retried in `withRetries`.
 * The master's URL is `http://HOST:PORT`, or `unix:/PATH` for a master on a Unix socket (a
 * sandboxed worker has no network: its master's socket is bound into its sandbox).
 */
export class MasterClient {
  readonly #url: string;
  readonly #socketPath: string | undefined;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4 });
  readonly #token: string;
  #giveUpMs: number;
  /**
   * When the master last answered anything, on the monotonic clock (`performance.now()`): the
   * worker's heartbeat loop compares it with its give-up time (worker.ts), which a wall-clock step
   * must not end early or put off.
   */
  lastContact = performance.now();

  /** `giveUpMs`: how long the master may stay unreachable before calls fail for good. */
  constructor(url: string, token: string, giveUpMs = 30_000) {
    this.#socketPath = url.startsWith('unix:') ? url.slice('unix:'.length) : undefined;
    this.#url = this.#socketPath !== undefined ? 'http://master' : url.replace(/\/+$/, '');
    this.#token = token;
    this.#giveUpMs = giveUpMs;
  }

  /** How long the master may stay unreachable before calls fail for good. */
  get giveUpMs(): number {
    return this.#giveUpMs;
  }

  set giveUpMs(ms: number) {
    this.#giveUpMs = ms;
  }

  register(workerId: string): Promise<JobInfo> {
    return this.#call('/v1/register', { workerId, pid: process.pid });
  }

  next(workerId: string): Promise<NextResponse> {
    return this.#call('/v1/next', { workerId });
  }

  heartbeat(workerId: string, attemptId: string, bytes: number, usage?: AttemptUsage): Promise<HeartbeatResponse> {
    return this.#call('/v1/heartbeat', { workerId, attemptId, bytes, ...(usage !== undefined ? { usage } : {}) });
  }

  /** Asks whether this attempt may publish its output (fencing: see CommitRequestSchema). */
  commit(workerId: string, attemptId: string): Promise<CommitResponse> {
    return this.#call('/v1/commit', { workerId, attemptId });
  }

  async done(body: RequestOf<'/v1/done'>): Promise<void> {
    await this.#call('/v1/done', body);
  }

  async failed(body: RequestOf<'/v1/failed'>): Promise<void> {
    await this.#call('/v1/failed', body);
  }

  /**
   * POSTs `body` to `route` and returns the master's reply, parsed with the route's response
   * schema. A reply that is not what the route answers is a TORPEDO_ERR_PROTOCOL naming the route
   * (a definite answer: not retried); so is a refusal (4xx). A 5xx or a network error is retried.
   */
  #call<R extends ProtocolRoute>(route: R, body: RequestOf<R>): Promise<ResponseOf<R>> {
    return withRetries(
      async () => {
        // A cut-off master must not hold a call longer than the worker is willing to wait for it.
        const res = await this.#request(route, JSON.stringify(body), Math.min(15_000, Math.max(2_000, this.#giveUpMs / 2)));
        this.lastContact = performance.now();
        if (res.status >= 500) throw new Error(`master answered ${res.status} to ${route}: ${res.text.slice(0, 200)}`);
        if (res.status < 200 || res.status >= 300) {
          throw new TorpedoError('TORPEDO_ERR_PROTOCOL', `master refused ${route} (${res.status}): ${res.text.slice(0, 300)}`);
        }
        return parseReply(route, res.text);
      },
      { giveUpMs: this.#giveUpMs, what: `POST ${route}` },
    );
  }

  /** One POST over a kept-alive connection; rejects on a network error or after `timeoutMs`. */
  #request(path: string, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.#url + path,
        {
          method: 'POST',
          agent: this.#agent,
          ...(this.#socketPath !== undefined ? { socketPath: this.#socketPath } : {}),
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${this.#token}` },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function parseReply<R extends ProtocolRoute>(route: R, text: string): ResponseOf<R> {
  const bad = (what: string): TorpedoError =>
    new TorpedoError('TORPEDO_ERR_PROTOCOL', `the master's reply to POST ${route} ${what} (the reply: ${text.slice(0, 200)}); are worker and master the same version?`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`is not JSON: ${(e as Error).message}`);
  }
  const parsed = PROTOCOL_ROUTES[route].response.safeParse(json);
  if (!parsed.success) throw bad(`is not a valid answer ${firstIssue(parsed.error)}`);
  return parsed.data as ResponseOf<R>;
}
