/**
 * How an S3Storage reaches its bucket. `s3OptionsFromEnv` reads the SDK's standard variables
 * (the SDK itself reads the credentials, profiles and config files: they are never copied into
 * torpedo's own settings, job files or messages) and torpedo's few of its own.
 */
export interface S3StorageOptions {
  readonly bucket: string;
  /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: a MinIO, Ceph or test server. Unset: AWS (or the profile's endpoint_url). */
  readonly endpoint?: string;
  /** AWS_REGION, else AWS_DEFAULT_REGION; `us-east-1` when an endpoint is set; else the profile's. */
  readonly region?: string;
  /** Explicit keys (tests); unset: the SDK's default chain (environment, AWS_PROFILE and config files, container and instance roles). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`): on whenever an endpoint is set, or by TORPEDO_S3_PATH_STYLE=1. */
  readonly forcePathStyle?: boolean;
  /** The most attempts per request, retries included (AWS_MAX_ATTEMPTS, default 5). */
  readonly maxAttempts?: number;
  /** The SDK's retry mode (AWS_RETRY_MODE): `standard` (default) or `adaptive` (client-side rate limiting too). */
  readonly retryMode?: 'standard' | 'adaptive';
  /** Keys per listing request, at most 1000 (the tests use fewer to page often). */
  readonly pageSize?: number;
  /** Bytes per part of a multipart upload, at least 5 MiB (S3's minimum); default 8 MiB. */
  readonly partSize?: number;
  /** How often a read resumes after a dropped connection without getting a byte, default 5. */
  readonly readResumes?: number;
  /** TORPEDO_S3_CONDITIONAL_WRITES: `on`, `off`, or `auto` (default: probe the bucket once). */
  readonly conditionalWrites?: 'auto' | 'on' | 'off';
  /**
   * A Unix socket to send every request to: the job's storage gateway (src/storage/s3-gateway.ts),
   * for a sandboxed worker, which has no network and no credentials (TORPEDO_S3_GATEWAY).
   */
  readonly socketPath?: string;
  /** Other strings that must never appear in an error (the environment's keys, when the SDK reads them). */
  readonly secrets?: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The options for `bucket` from an environment (process.env by default). */
export function s3OptionsFromEnv(bucket: string, env: Env = process.env): S3StorageOptions {
  // A sandboxed worker: its gateway signs for it, so its own keys are throwaway ones.
  const gateway = nonEmpty(env['TORPEDO_S3_GATEWAY']);
  if (gateway !== undefined) {
    return { bucket, endpoint: 'http://torpedo-gateway', region: 'us-east-1', credentials: { accessKeyId: 'torpedo-worker', secretAccessKey: 'signed-by-the-gateway' }, forcePathStyle: true, socketPath: gateway };
  }
  const endpoint = nonEmpty(env['AWS_ENDPOINT_URL_S3']) ?? nonEmpty(env['AWS_ENDPOINT_URL']);
  const region = nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? (endpoint !== undefined ? 'us-east-1' : undefined);
  const pathStyle = nonEmpty(env['TORPEDO_S3_PATH_STYLE']);
  const attempts = Number(env['AWS_MAX_ATTEMPTS']);
  const mode = env['TORPEDO_S3_CONDITIONAL_WRITES'];
  const retry = env['AWS_RETRY_MODE'];
  return {
    bucket,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
    forcePathStyle: pathStyle !== undefined ? /^(1|true|yes|on)$/i.test(pathStyle) : endpoint !== undefined,
    ...(Number.isSafeInteger(attempts) && attempts > 0 ? { maxAttempts: attempts } : {}),
    ...(retry === 'adaptive' || retry === 'standard' ? { retryMode: retry } : {}),
    ...(mode === 'on' || mode === 'off' || mode === 'auto' ? { conditionalWrites: mode } : {}),
    secrets: [env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY'], env['AWS_SESSION_TOKEN']].filter((s): s is string => s !== undefined && s !== ''),
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
