import { Agent, request } from 'node:http';
import type { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import {
  AckSchema,
  CommitResponseSchema,
  HeartbeatResponseSchema,
  JobInfoSchema,
  NextResponseSchema,
  type ErrorReport,
  type JobInfo,
  type NextResponse,
} from './messages.ts';
import { withRetries } from './retry.ts';

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
  /** When the master last answered anything (ms since the epoch). */
  lastContact = Date.now();

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
    return this.#post('/v1/register', { workerId, pid: process.pid }, JobInfoSchema);
  }

  next(workerId: string): Promise<NextResponse> {
    return this.#post('/v1/next', { workerId }, NextResponseSchema);
  }

  heartbeat(workerId: string, attemptId: string, bytes: number): Promise<{ abort: boolean }> {
    return this.#post('/v1/heartbeat', { workerId, attemptId, bytes }, HeartbeatResponseSchema);
  }

  /** Asks whether this attempt may publish its output (fencing: see CommitRequestSchema). */
  commit(workerId: string, attemptId: string): Promise<{ commit: boolean; reason?: string | undefined }> {
    return this.#post('/v1/commit', { workerId, attemptId }, CommitResponseSchema);
  }

  async done(body: {
    workerId: string;
    attemptId: string;
    counters: Record<string, number>;
    userCounters: Record<string, number>;
    committed: boolean;
    maxRssBytes: number;
    setup?: unknown;
  }): Promise<void> {
    await this.#post('/v1/done', body, AckSchema);
  }

  async failed(body: { workerId: string; attemptId: string; error: ErrorReport; maxRssBytes: number }): Promise<void> {
    await this.#post('/v1/failed', body, AckSchema);
  }

  #post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    return withRetries(
      async () => {
        // A cut-off master must not hold a call longer than the worker is willing to wait for it.
        const res = await this.#request(path, JSON.stringify(body), Math.min(15_000, Math.max(2_000, this.#giveUpMs / 2)));
        this.lastContact = Date.now();
        if (res.status >= 500) throw new Error(`master answered ${res.status} to ${path}: ${res.text.slice(0, 200)}`);
        if (res.status < 200 || res.status >= 300) {
          throw new TorpedoError('TORPEDO_ERR_PROTOCOL', `master refused ${path} (${res.status}): ${res.text.slice(0, 300)}`);
        }
        return schema.parse(JSON.parse(res.text)) as z.infer<S>;
      },
      { giveUpMs: this.#giveUpMs, what: `POST ${path}` },
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
