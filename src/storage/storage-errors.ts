/**
 * The errors of the storage seam: each names the URI it is about (`s3://bucket/key`, or the local
 * path) and what to do, and carries a `reason` callers can branch on. A message never holds a
 * credential: the S3 implementation builds its own messages from an SDK error's name and status
 * rather than passing the server's text or the SDK error on (whose fields can hold the request,
 * its signature and the access key id), and scrubs the configured keys from what it does keep.
 */
import { noSpaceError, TorpedoError, type ErrorCode } from '../errors.ts';

export type StorageErrorReason =
  /** No object at the key (or a local directory where an object was expected). */
  | 'not-found'
  /** The S3 bucket does not exist. */
  | 'no-bucket'
  /** No credentials were found. */
  | 'no-credentials'
  /** Credentials were refused (unknown key, wrong secret) or do not grant the request; local: EACCES. */
  | 'access-denied'
  /** The server kept throttling (503 SlowDown, 429) past every retry. */
  | 'throttled'
  /** The connection failed or dropped past every retry. */
  | 'connection'
  /** The object changed during a read that was resuming it, or is not the version asked for (`ifMatch`). */
  | 'changed'
  /** Any other failure of the server. */
  | 'unavailable';

const CODES: Record<StorageErrorReason, ErrorCode> = {
  'not-found': 'TORPEDO_ERR_STORAGE_NOT_FOUND',
  'no-bucket': 'TORPEDO_ERR_STORAGE_NOT_FOUND',
  'no-credentials': 'TORPEDO_ERR_STORAGE_DENIED',
  'access-denied': 'TORPEDO_ERR_STORAGE_DENIED',
  throttled: 'TORPEDO_ERR_STORAGE_UNAVAILABLE',
  connection: 'TORPEDO_ERR_STORAGE_UNAVAILABLE',
  changed: 'TORPEDO_ERR_INPUT_CHANGED',
  unavailable: 'TORPEDO_ERR_STORAGE_UNAVAILABLE',
};

export class StorageError extends TorpedoError {
  readonly reason: StorageErrorReason;
  /** The URI the failed request was about. */
  readonly uri: string;

  constructor(reason: StorageErrorReason, uri: string, message: string, options?: ErrorOptions) {
    // A changed object fails its task for good (as a changed local input does); the rest may pass.
    super(CODES[reason], message, reason === 'changed' ? { file: uri, retryable: false } : { file: uri }, options);
    this.name = 'StorageError';
    this.reason = reason;
    this.uri = uri;
  }
}

export function isStorageError(e: unknown, reason?: StorageErrorReason): e is StorageError {
  return e instanceof StorageError && (reason === undefined || e.reason === reason);
}

export function notFound(uri: string, detail = 'no such object'): StorageError {
  return new StorageError('not-found', uri, `${uri}: ${detail}`);
}

export function changed(uri: string, detail: string): StorageError {
  return new StorageError('changed', uri, `${uri} changed while it was read (${detail}); it is not read from two versions`);
}

/**
 * A local filesystem error as the seam's: ENOENT and its kin are 'not-found', EACCES and EPERM
 * 'access-denied', a full disk TORPEDO_ERR_NO_SPACE naming the path; anything else as it is.
 */
export function fromLocalError(e: unknown, uri: string, doing: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return notFound(uri, code === 'EISDIR' ? 'is a directory, not a file' : 'no such file');
  if (code === 'EACCES' || code === 'EPERM') return new StorageError('access-denied', uri, `${uri}: permission denied ${doing} (${code})`, { cause: e });
  if (code === 'ENOSPC' || code === 'EDQUOT') return noSpaceError(e as NodeJS.ErrnoException, doing, uri);
  return e;
}
