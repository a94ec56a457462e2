/**
 * An S3 SDK error as the seam's StorageError. The message is built here from the error's name,
 * HTTP status and system code only: the server's own text, the SDK error object (kept by some
 * loggers as `cause`) and its request carry the signature, the access key id and sometimes a
 * presigned URL, so none of them is passed on. What is kept is scrubbed of the configured keys
 * once more, in case a name or code ever held one.
 */
import { StorageError, type StorageErrorReason } from './storage-errors.ts';

/** What of an SDK error is safe to look at. */
interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly $retryable?: unknown;
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled', 'ServiceUnavailable']);
const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'InvalidToken', 'ExpiredToken', 'AllAccessDisabled', 'AccountProblem']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError', 'RequestTimeout', 'AbortError', 'ERR_STREAM_PREMATURE_CLOSE']);

/** The HTTP status of an SDK error, if it got an answer. */
export function s3Status(e: unknown): number | undefined {
  return (e as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** How many attempts the SDK made before giving up with `e` (1 if it did not say). */
export function s3Attempts(e: unknown): number {
  return (e as SdkErrorShape | undefined)?.$metadata?.attempts ?? 1;
}

/** The S3 error code (`NoSuchKey`, `SlowDown` …) or system code (`ECONNRESET`) of an error. */
export function s3Code(e: unknown): string {
  const x = e as SdkErrorShape | undefined;
  return x?.Code ?? (typeof x?.code === 'string' ? x.code : undefined) ?? x?.name ?? 'Error';
}

export function isPreconditionFailed(e: unknown): boolean {
  return s3Status(e) === 412 || s3Code(e) === 'PreconditionFailed';
}

/** Whether the error means no object (or no bucket) at the key: the caller asks which. */
export function isMissing(e: unknown): boolean {
  const code = s3Code(e);
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket' || s3Status(e) === 404;
}

export interface S3ErrorContext {
  /** `s3://bucket/key`. */
  readonly uri: string;
  /** What was being done: `reading`, `listing` … */
  readonly doing: string;
  /** The endpoint, for connection errors (without user info). */
  readonly endpoint: string;
  /** The most attempts a request makes (the SDK's retries). */
  readonly attempts: number;
  /** Strings that must never appear in a message: the configured access key id, secret, token. */
  readonly secrets: readonly string[];
}

/** The StorageError for an SDK or network error `e` met while `ctx.doing` `ctx.uri`. */
export function fromS3Error(e: unknown, ctx: S3ErrorContext): StorageError {
  if (e instanceof StorageError) return e;
  const code = s3Code(e);
  const status = s3Status(e);
  const what = status !== undefined ? `S3 ${code}, HTTP ${status}` : code;
  const [reason, message] = explain(code, status, what, ctx);
  return new StorageError(reason, ctx.uri, scrub(message, ctx.secrets));
}

function explain(code: string, status: number | undefined, what: string, ctx: S3ErrorContext): [StorageErrorReason, string] {
  const { uri, doing } = ctx;
  if (code === 'CredentialsProviderError' || code === 'ProviderError') {
    return ['no-credentials', `no S3 credentials found for ${uri}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a config file (${code})`];
  }
  if (code === 'NoSuchBucket') return ['no-bucket', `${uri}: the bucket ${bucketOf(uri)} does not exist (${what})`];
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return ['not-found', `${uri}: no such object (${what})`];
  if (DENIED.has(code) || status === 403 || status === 401) {
    return ['access-denied', `access denied ${doing} ${uri} (${what}): check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and that they grant this bucket and key`];
  }
  if (code === 'PreconditionFailed' || status === 412) return ['changed', `${uri} changed while it was read (${what}); it is not read from two versions`];
  if (THROTTLING.has(code) || status === 429 || status === 503) {
    return ['throttled', `S3 kept throttling requests ${doing} ${uri} (${what}) after ${ctx.attempts} attempts with backoff; try again later, or with fewer workers`];
  }
  if (NETWORK.has(code) || status === undefined) {
    return ['connection', `the connection to the S3 endpoint ${ctx.endpoint} failed ${doing} ${uri} (${code}) after ${ctx.attempts} attempts`];
  }
  return ['unavailable', `S3 failed ${doing} ${uri} (${what})`];
}

/** `s3://bucket/key` → `bucket`. */
function bucketOf(uri: string): string {
  return uri.slice('s3://'.length).split('/')[0] ?? '';
}

/** `text` with every occurrence of a secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}
