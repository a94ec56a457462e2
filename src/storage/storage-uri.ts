/**
 * Names of locations, as users type them: `s3://bucket/prefix/` for an S3 bucket, and a local
 * path (absolute, relative to the working directory, or `file:///abs/path`). `storageFor` turns
 * one into the storage that holds it and the key in that storage; a name ending in `/` gives a
 * prefix (a "directory") ending in `/`.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TorpedoError } from '../errors.ts';
import { LocalStorage } from './local-storage.ts';
import { s3OptionsFromEnv } from './s3-options.ts';
import { S3Storage } from './s3-storage.ts';
import { keyProblem, type Storage } from './storage.ts';

export type StorageLocation =
  | { readonly scheme: 'file'; /** Absolute, with a trailing `/` if the name had one. */ readonly path: string }
  | { readonly scheme: 's3'; readonly bucket: string; /** `''` for the whole bucket. */ readonly key: string };

/** Whether `name` names an object store rather than a local path (any `scheme://`). */
export function isRemoteUri(name: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(name) && !/^file:\/\//i.test(name);
}

/** Parses what a user typed; a malformed name is TORPEDO_ERR_BAD_FLAG saying what is wrong. */
export function parseStorageUri(name: string, cwd = process.cwd()): StorageLocation {
  const bad = (why: string): TorpedoError => new TorpedoError('TORPEDO_ERR_BAD_FLAG', `malformed storage location ${JSON.stringify(name)}: ${why}`);
  if (name === '') throw bad('it is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(name)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (/^s3:/i.test(name)) throw bad('an S3 location is s3://BUCKET/KEY');
    return local(isAbsolute(name) ? name : resolve(cwd, name), name.endsWith('/'), bad);
  }
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(name);
    } catch (e) {
      throw bad(`not a local file URL (${(e as Error).message})`);
    }
    return local(path, name.endsWith('/'), bad);
  }
  if (scheme !== 's3') throw bad(`the scheme ${scheme}:// is not supported: use s3://BUCKET/KEY or a local path${scheme === 's3a' || scheme === 's3n' ? ' (s3a:// and s3n:// are s3:// here)' : ''}`);
  const rest = name.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw bad('no bucket: an S3 location is s3://BUCKET/KEY');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) throw bad(`${JSON.stringify(bucket)} is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`);
  if (/[?#]/.test(key)) throw bad('a key with "?" or "#" is refused: it reads as a query or fragment of a URL');
  if (key !== '') {
    const problem = keyProblem(key, key.endsWith('/') ? 'prefix' : 'key');
    if (problem !== undefined) throw bad(`its key ${JSON.stringify(key)} is malformed: ${problem}`);
  }
  return { scheme: 's3', bucket, key };
}

function local(path: string, dir: boolean, bad: (why: string) => TorpedoError): StorageLocation {
  if (path.includes('\0')) throw bad('it contains a NUL byte');
  const abs = resolve(path);
  return { scheme: 'file', path: dir && abs !== '/' ? `${abs}/` : abs };
}

export interface StorageAt {
  readonly storage: Storage;
  /** The key (or prefix, ending in `/`) in `storage`; `''` for its root. */
  readonly key: string;
}

const local_ = new LocalStorage('/');
const buckets = new Map<string, S3Storage>();

/**
 * The storage holding `name` and the key in it. One S3Storage per bucket and endpoint per
 * process, so that a bucket's support for conditional writes is found out once. `env`: where the
 * S3 settings come from (process.env by default).
 */
export function storageFor(name: string, env: Readonly<Record<string, string | undefined>> = process.env): StorageAt {
  const at = parseStorageUri(name);
  if (at.scheme === 'file') return { storage: local_, key: at.path.slice(1) };
  const o = s3OptionsFromEnv(at.bucket, env);
  const id = `${o.endpoint ?? ''} ${at.bucket}`;
  let storage = buckets.get(id);
  if (storage === undefined) buckets.set(id, (storage = new S3Storage(o)));
  return { storage, key: at.key };
}
