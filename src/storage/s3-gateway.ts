/**
 * The storage gateway: how a sandboxed worker reaches S3 with no network and no credentials.
 * It listens on a Unix socket (bound into the worker's sandbox at SANDBOX_S3_SOCKET), takes the
 * worker's S3 requests (path-style, signed with throwaway keys), lets through only those its
 * job's grants allow (s3-gateway-policy.ts), and sends them on to the real endpoint signed anew
 * with the real credentials, which it alone holds. The bodies stream both ways, unbuffered and
 * unsigned (`UNSIGNED-PAYLOAD`). Runs in the master's process, outside the sandbox.
 *
 * So user code in a worker can read its job's inputs and read and write under its output, and
 * nothing else in any bucket, whatever requests it forges; and no credential is ever inside the
 * sandbox to be stolen (docs/storage.md, "Who may reach what").
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { decide, type GatewayGrants } from './s3-gateway-policy.ts';

/** Request headers passed on to the store; the rest (the worker's signature, its host) are dropped. */
const PASSED = new Set(['content-length', 'content-type', 'content-md5', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm', 'x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-mp-parts-count']);

export interface S3GatewayOptions {
  /** Where to listen: a Unix socket's path (made by the gateway, removed by close), or `{ port: 0 }` on loopback (tests). */
  readonly listen: string | { readonly port: number };
  /** The real store: its endpoint (http or https), region and how to get credentials. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: () => Promise<{ readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }>;
  readonly grants: GatewayGrants;
  /** Told of each refusal, for the job's log (no credential in it). */
  readonly onRefusal?: (what: string) => void;
}

export interface S3Gateway {
  /** The socket's path, or `http://127.0.0.1:PORT` on loopback. */
  readonly address: string;
  /** Requests and bytes so far, for the benchmark and the tests. */
  stats(): GatewayStats;
  close(): Promise<void>;
}

export interface GatewayStats {
  readonly requests: number;
  readonly refused: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** Starts a gateway and waits until it listens. */
export async function startS3Gateway(o: S3GatewayOptions): Promise<S3Gateway> {
  const gateway = openS3Gateway(o);
  await gateway.ready;
  return gateway;
}

/** Starts a gateway, listening by the time `ready` resolves (a Unix socket: at once, for all practical purposes). */
export function openS3Gateway(o: S3GatewayOptions): S3Gateway & { readonly ready: Promise<void> } {
  const upstream = new URL(o.endpoint);
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  const stats = { requests: 0, refused: 0, bytesUp: 0, bytesDown: 0 };
  const signer = new SignatureV4({ service: 's3', region: o.region, credentials: o.credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const server = createServer((req, res) => {
    stats.requests++;
    forward(req, res).catch((e: unknown) => reply(res, 502, 'InternalError', `the storage gateway could not reach the store: ${(e as Error).message}`));
  });

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const decision = decide(req.method ?? 'GET', url.pathname, url.searchParams, req.headers, o.grants);
    if (!decision.allowed) {
      stats.refused++;
      o.onRefusal?.(`${req.method} ${url.pathname}: ${decision.why}`);
      req.resume();
      return reply(res, decision.status, decision.code, `torpedo's storage gateway refused this: ${decision.why}`);
    }
    const sha = req.headers['x-amz-content-sha256'];
    if (typeof sha === 'string' && sha.startsWith('STREAMING-')) {
      req.resume();
      return reply(res, 400, 'NotImplemented', 'chunk-signed uploads (aws-chunked) do not pass the storage gateway: send a length and an unsigned or hashed payload');
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (PASSED.has(name) || name.startsWith('x-amz-meta-')) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const path = upstream.pathname.replace(/\/$/, '') + url.pathname;
    const signed = await sign(req.method ?? 'GET', upstream, path, url.searchParams, headers, signer);
    const out = send({ protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: path + url.search, headers: signed });
    out.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers as OutgoingHttpHeaders);
      up.on('data', (b: Buffer) => (stats.bytesDown += b.length));
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    out.on('error', (e) => {
      if (res.headersSent) res.destroy();
      else reply(res, 502, 'InternalError', `the storage gateway could not reach the store: ${e.message}`);
    });
    req.on('data', (b: Buffer) => (stats.bytesUp += b.length));
    req.pipe(out);
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
  }

  if (typeof o.listen === 'string') rmSync(o.listen, { force: true });
  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof o.listen === 'string') server.listen(o.listen, resolve);
    else server.listen(o.listen.port, '127.0.0.1', resolve);
  });
  return {
    ready,
    get address() {
      return typeof o.listen === 'string' ? o.listen : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        if (typeof o.listen === 'string') rmSync(o.listen, { force: true });
      }),
  };
}

function reply(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The request signed anew for the store (AWS Signature Version 4, @smithy/signature-v4), its
 * payload unsigned (`UNSIGNED-PAYLOAD`: the body streams through unread). The path is signed as
 * sent: S3 does not encode it twice.
 */
async function sign(method: string, endpoint: URL, path: string, query: URLSearchParams, headers: Readonly<Record<string, string>>, signer: SignatureV4): Promise<Record<string, string>> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of query) {
    const had = q[k];
    q[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  const signed = await signer.sign({
    method,
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port !== '' ? { port: Number(endpoint.port) } : {}),
    path,
    query: q,
    headers: { ...headers, host: endpoint.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return signed.headers;
}
