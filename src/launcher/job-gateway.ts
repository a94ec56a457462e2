import { splitPieces } from '../input/splits.ts';
import type { MasterSpec } from '../master/master-spec.ts';
import { openS3Gateway, type S3Gateway } from '../storage/s3-gateway.ts';
import type { GatewayGrants, ObjectScope } from '../storage/s3-gateway-policy.ts';
import { s3OptionsFromEnv } from '../storage/s3-options.ts';
import { isRemoteUri, parseStorageUri } from '../storage/storage-uri.ts';

/** Where a sandboxed worker finds its job's storage gateway (bound there by worker-sandbox.ts). */
export const SANDBOX_S3_SOCKET = '/run/torpedo/s3.sock';

/** What a job's workers may reach in object stores: each input object its splits read, to read. */
export function jobGrants(spec: Pick<MasterSpec, 'splits'>): GatewayGrants | undefined {
  const read: ObjectScope[] = [];
  const seen = new Set<string>();
  for (const split of spec.splits) {
    for (const piece of splitPieces(split)) {
      if (!isRemoteUri(piece.file) || seen.has(piece.file)) continue;
      seen.add(piece.file);
      const at = parseStorageUri(piece.file);
      if (at.scheme === 's3') read.push({ bucket: at.bucket, key: at.key });
    }
  }
  return read.length === 0 ? undefined : { read, write: [] };
}

/**
 * The storage gateway of a job whose inputs are in S3, on a Unix socket at `socketPath`, holding
 * this process's credentials (the SDK's default chain: environment, profiles, roles) for the
 * endpoint of the environment (AWS_ENDPOINT_URL_S3…), or undefined if the job reads no object.
 */
export function jobGateway(spec: Pick<MasterSpec, 'splits'>, socketPath: string, env: Readonly<Record<string, string | undefined>> = process.env): (S3Gateway & { readonly ready: Promise<void> }) | undefined {
  const grants = jobGrants(spec);
  if (grants === undefined) return undefined;
  const first = grants.read[0]!;
  const o = s3OptionsFromEnv(first.bucket, env);
  const region = o.region ?? 'us-east-1';
  // The SDK's provider chain, loaded at the first request (most jobs read no object).
  let provider: Promise<() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>> | undefined;
  return openS3Gateway({
    listen: socketPath,
    endpoint: o.endpoint ?? `https://s3.${region}.amazonaws.com`,
    region,
    credentials: async () => {
      provider ??= import('@aws-sdk/credential-provider-node').then((m) => m.defaultProvider());
      return await (await provider)();
    },
    grants,
  });
}
