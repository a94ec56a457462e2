/**
 * The AWS SDK, loaded at an S3Storage's first request rather than with the module: a process that
 * never touches S3 (most workers) does not pay for loading it (≈80 ms and 20 MB on Node 20).
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Upload } from '@aws-sdk/lib-storage';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3StorageOptions } from './s3-options.ts';

export interface Sdk {
  readonly s3: typeof S3Sdk;
  readonly Upload: typeof Upload;
  readonly client: S3Client;
}

/** The SDK's modules and one client configured from `o` (docs/storage.md, "S3 settings"). */
export async function loadSdk(o: S3StorageOptions, maxAttempts: number): Promise<Sdk> {
  // Every client would print, once per process, that SDK releases after January 2027 need Node
  // 22: on every torpedo command's stderr. torpedo supports Node 20 (package.json pins a 3.x that
  // runs on it), so the notice is for its maintainers (docs/storage.md), not for each run.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const [s3, lib, gateway] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage'), o.socketPath !== undefined ? gatewayHandler(o.socketPath) : undefined]);
  const client = new s3.S3Client({
    ...(o.region !== undefined ? { region: o.region } : {}),
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
    // Only the checksums S3 requires: streamed uploads with the SDK's default trailing checksums
    // are stored corrupted by some servers, and ranged GETs have none to check.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Standard retries: exponential backoff with jitter, throttling (503 SlowDown, 429), 5xx and
    // connection errors retried, bounded by maxAttempts and a retry quota.
    maxAttempts,
    retryMode: o.retryMode ?? 'standard',
    requestHandler: gateway ?? { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
  return { s3, Upload: lib.Upload, client };
}

/** A request handler whose every connection goes to the Unix socket at `path`: the job's storage gateway (s3-gateway.ts). */
async function gatewayHandler(path: string): Promise<NodeHttpHandler> {
  const [{ NodeHttpHandler }, { Agent }, { connect }] = await Promise.all([import('@smithy/node-http-handler'), import('node:http'), import('node:net')]);
  const agent = new Agent({ keepAlive: true });
  (agent as unknown as { createConnection: () => unknown }).createConnection = () => connect(path);
  return new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 10_000, requestTimeout: 120_000 });
}
