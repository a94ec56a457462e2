import type { ReadableStream } from 'node:stream/web';

/** An answer of the manager outside 2xx: `{error: {code, message}}` (docs/rest-api.md). */
export class ApiError extends Error {
  /** TORPEDO_ERR_…, or `HTTP <status>` when the body was not the manager's (a proxy's page). */
  readonly code: string;
  readonly status: number;
  readonly server: string;
  /** Seconds from the Retry-After header of a 429. */
  readonly retryAfter: number | undefined;

  constructor(server: string, status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.server = server;
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  static async from(server: string, res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    const retry = Number(res.headers.get('retry-after') ?? NaN);
    const retryAfter = Number.isFinite(retry) ? retry : undefined;
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
      const { code, message } = body.error ?? {};
      if (typeof code === 'string' && typeof message === 'string') return new ApiError(server, res.status, code, message, retryAfter);
    } catch {
      // Not JSON: fall through to the generic report below.
    }
    const message = text.trim().slice(0, 200) || res.statusText || 'no message';
    return new ApiError(server, res.status, `HTTP ${res.status}`, message, retryAfter);
  }
}

/** The manager could not be reached at all (refused, unknown host, reset, timed out). */
export class ManagerUnreachableError extends Error {
  readonly server: string;

  constructor(server: string, reason: string) {
    super(`cannot reach the manager at ${server}: ${reason}`);
    this.name = 'ManagerUnreachableError';
    this.server = server;
  }
}

// undici wraps socket errors in a TypeError('fetch failed') whose `cause` has the system code.
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is `torpedo manager` running there? pass --server or set TORPEDO_SERVER)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name did not resolve (DNS)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  EPIPE: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'timed out while connecting',
  UND_ERR_SOCKET: 'the connection was closed',
  UND_ERR_CLOSED: 'the connection was closed',
};

/** A network failure of fetch (or of reading its body) as ManagerUnreachableError; undefined for others. */
export function unreachable(server: string, e: unknown): ManagerUnreachableError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = c.cause, depth++) {
    const code = (c as NodeJS.ErrnoException).code;
    const reason = code !== undefined ? NETWORK_CODES[code] : undefined;
    if (reason !== undefined) return new ManagerUnreachableError(server, reason);
    if (c.message === 'terminated' || c.message === 'other side closed') return new ManagerUnreachableError(server, 'the connection was closed');
  }
  return undefined;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as it is read, never buffered whole (fetch needs `duplex: 'half'` for that). */
  readonly stream?: ReadableStream<Uint8Array>;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The manager's REST API over fetch. Every method throws ApiError for a non-2xx answer and
 * ManagerUnreachableError for a network failure, so commands handle only the success path.
 */
export class ApiClient {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:7777. */
  readonly server: string;
  readonly #token: string | undefined;

  constructor(server: string, token: string | undefined) {
    this.server = server;
    this.#token = token;
  }

  get authenticated(): boolean {
    return this.#token !== undefined;
  }

  /** One request; the successful Response is returned with its body unread (for streaming). */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.server}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...o.headers };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    let body: RequestInit['body'];
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.stream !== undefined) {
      // node:stream/web's ReadableStream is the one fetch takes; only the declared types differ.
      body = o.stream as unknown as RequestInit['body'];
    }
    let res: Response;
    try {
      // A streamed body needs redirect: 'error'. Otherwise undici, following the fetch spec, clones
      // the request in case it must be sent again after a redirect, and the clone tees the body:
      // the unread branch buffers every byte sent, the whole file (nodejs/undici#4058).
      const streamed = o.stream !== undefined ? { duplex: 'half' as const, redirect: 'error' as const } : {};
      res = await fetch(url, { method, headers, body, ...streamed });
    } catch (e) {
      // fetch rejects only for network-level failures; some have no system code ("bad port").
      const cause = e instanceof TypeError && e.cause instanceof Error ? e.cause.message : undefined;
      throw unreachable(this.server, e) ?? (cause !== undefined ? new ManagerUnreachableError(this.server, cause) : e);
    }
    if (!res.ok) throw await ApiError.from(this.server, res);
    return res;
  }

  /** A request whose answer is JSON (undefined for 204 No Content). */
  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    if (res.status === 204) return undefined as T;
    try {
      return (await res.json()) as T;
    } catch (e) {
      throw unreachable(this.server, e) ?? e;
    }
  }
}
