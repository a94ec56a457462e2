// A loopback HTTP proxy in front of an S3 server, for tests of what a client does with bad
// answers: it can throttle (503 SlowDown) the next requests, cut a GET's connection after some
// body bytes, and counts requests and bytes per method. Bodies stream through; nothing is buffered.
//
// Requests are forwarded with their headers as sent, Host included: SigV4 signs the Host header
// (127.0.0.1:PROXY_PORT) and the server checks the signature against the Host it receives.
import { request, createServer, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which requests a fault applies to; every request when absent. */
export type RequestMatch = (r: { readonly method: string; readonly path: string }) => boolean;

export interface MethodStats {
  requests: number;
  /** Request body bytes the proxy forwarded to the server. */
  bytesUp: number;
  /** Response body bytes the proxy forwarded to the client. */
  bytesDown: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT: give it to the S3 client in place of the server's endpoint. */
  readonly endpoint: string;
  /** The next `n` matching requests get 503 SlowDown (an S3 XML error body) and never reach the server. */
  throttleNext(n: number, match?: RequestMatch): void;
  /**
   * The next `n` matching GET requests are forwarded, but their response's connection is
   * destroyed once `bytes` body bytes have been passed on (headers, with the full Content-Length,
   * are sent first): the client sees the connection drop mid-read.
   */
  dropNextAfter(bytes: number, n: number, match?: RequestMatch): void;
  /** Counts by method ('GET', 'PUT', …), and the throttled and dropped requests. */
  stats(): { readonly byMethod: Readonly<Record<string, MethodStats>>; readonly throttled: number; readonly dropped: number };
  resetStats(): void;
  stop(): Promise<void>;
}

interface Fault {
  left: number;
  readonly match: RequestMatch | undefined;
  /** dropNextAfter's: body bytes passed on before the connection is cut. */
  readonly bytes: number;
}

/** Headers that belong to one connection, not to the request: not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect']);

function forwardHeaders(raw: readonly string[]): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    const prev = headers[name];
    headers[name] = prev === undefined ? raw[i + 1]! : [...(Array.isArray(prev) ? prev : [prev]), raw[i + 1]!];
  }
  return headers;
}

/** The first fault with requests left that matches `r`, now with one request fewer. */
function take(faults: readonly Fault[], r: { method: string; path: string }): Fault | undefined {
  const f = faults.find((x) => x.left > 0 && (x.match === undefined || x.match(r)));
  if (f !== undefined) f.left--;
  return f;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const throttles: Fault[] = [];
  const drops: Fault[] = [];
  let byMethod: Record<string, MethodStats> = {};
  let throttled = 0;
  let dropped = 0;
  const count = (method: string): MethodStats => (byMethod[method] ??= { requests: 0, bytesUp: 0, bytesDown: 0 });

  const server = createServer((req: IncomingMessage, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const stats = count(method);
    stats.requests++;
    if (take(throttles, { method, path }) !== undefined) {
      throttled++;
      // Read the body away first, so that the connection can serve the client's retry.
      req.resume();
      req.once('end', () => {
        const body =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>' +
          `<Resource>${path.replace(/[<>&]/g, '')}</Resource><RequestId>torpedo-fault-proxy</RequestId></Error>`;
        res.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    const dropAfter = method === 'GET' ? take(drops, { method, path }) : undefined;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method, path, headers: forwardHeaders(req.rawHeaders) },
      (upRes) => {
        const headers = forwardHeaders(upRes.rawHeaders);
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          if (dropAfter !== undefined && sent + chunk.length >= dropAfter.bytes) {
            const part = chunk.subarray(0, dropAfter.bytes - sent);
            stats.bytesDown += part.length;
            dropped++;
            upRes.destroy();
            // Flush what is allowed, then cut the connection.
            res.write(part, () => res.socket?.destroy());
            return;
          }
          sent += chunk.length;
          stats.bytesDown += chunk.length;
          if (!res.write(chunk)) {
            upRes.pause();
            res.once('drain', () => upRes.resume());
          }
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`fault proxy: ${err.message}`);
      } else {
        res.destroy();
      }
    });
    req.on('data', (chunk: Buffer) => {
      stats.bytesUp += chunk.length;
    });
    req.pipe(up);
    req.on('error', () => up.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    throttleNext(n, match) {
      throttles.push({ left: n, match, bytes: 0 });
    },
    dropNextAfter(bytes, n, match) {
      drops.push({ left: n, match, bytes });
    },
    stats: () => ({ byMethod: structuredClone(byMethod), throttled, dropped }),
    resetStats() {
      byMethod = {};
      throttled = 0;
      dropped = 0;
    },
    stop() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
