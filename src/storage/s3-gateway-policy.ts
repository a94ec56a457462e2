import { keyProblem } from './storage.ts';

// What a job's workers may ask of S3 through the storage gateway (s3-gateway.ts): read the
// objects of their inputs, read and write under their output, and nothing else. A pure function
// of the request's method, path, query and headers, so that every rule is tested on its own.

/** Objects of one bucket: one key, or every key under a prefix (`''` or ending in `/`). */
export type ObjectScope = { readonly bucket: string; readonly key: string } | { readonly bucket: string; readonly prefix: string };

/** What one job may reach. Writing implies reading. */
export interface GatewayGrants {
  readonly read: readonly ObjectScope[];
  readonly write: readonly ObjectScope[];
}

/** An S3 request the gateway lets through, in its parts, or why it does not. */
export type GatewayDecision =
  | { readonly allowed: true; readonly bucket: string; readonly key: string; readonly access: 'read' | 'write'; readonly what: string }
  | { readonly allowed: false; readonly status: number; readonly code: string; readonly why: string };

/** Query parameters of the object and listing calls a worker makes; any other (acl, tagging, versionId…) is refused. */
const QUERY = new Set(['x-id', 'list-type', 'prefix', 'start-after', 'continuation-token', 'max-keys', 'delimiter', 'encoding-type', 'fetch-owner', 'uploads', 'uploadId', 'partNumber', 'max-parts', 'part-number-marker']);

/**
 * Decides a path-style request (`/BUCKET/KEY?QUERY`). Objects: GET and HEAD read; PUT, DELETE and
 * the multipart calls (create, upload a part, complete, abort, list parts) write. Listings read
 * the whole of their `prefix`. Server-side copies (`x-amz-copy-source`), bucket calls, batch
 * deletes and sub-resources are refused: a worker needs none of them, and each could reach an
 * object its scopes do not name.
 */
export function decide(method: string, path: string, query: URLSearchParams, headers: Readonly<Record<string, string | string[] | undefined>>, grants: GatewayGrants): GatewayDecision {
  const deny = (why: string, status = 403, code = 'AccessDenied'): GatewayDecision => ({ allowed: false, status, code, why });
  for (const name of query.keys()) if (!QUERY.has(name)) return deny(`the query parameter "${name}" is not one a job's worker may send`);
  if (headers['x-amz-copy-source'] !== undefined) return deny('server-side copies are not allowed through the gateway');
  const slash = path.indexOf('/', 1);
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(slash === -1 ? path.slice(1) : path.slice(1, slash));
    key = slash === -1 ? '' : decodeURIComponent(path.slice(slash + 1));
  } catch {
    return deny('the path is not valid percent-encoding', 400, 'InvalidURI');
  }
  if (bucket === '') return deny('calls on the service (listing buckets) are not allowed');
  const uri = `s3://${bucket}/${key}`;
  if (key === '') {
    if (method !== 'GET' || query.has('uploads')) return deny(`${method} on the bucket ${bucket} is not allowed`);
    const prefix = query.get('prefix') ?? '';
    if (!grants.read.concat(grants.write).some((s) => coversPrefix(s, bucket, prefix))) return deny(`this job may not list s3://${bucket}/${prefix}`);
    return { allowed: true, bucket, key: prefix, access: 'read', what: 'list' };
  }
  const problem = keyProblem(key);
  if (problem !== undefined) return deny(`the key ${JSON.stringify(key)} is malformed: ${problem}`, 400, 'InvalidArgument');
  const multipart = query.has('uploads') || query.has('uploadId');
  const access = method === 'GET' && !multipart ? 'read' : method === 'HEAD' ? 'read' : ['PUT', 'DELETE', 'POST'].includes(method) || (method === 'GET' && multipart) ? 'write' : undefined;
  if (access === undefined) return deny(`${method} is not allowed`, 405, 'MethodNotAllowed');
  if (method === 'POST' && !multipart) return deny('POST on an object is only for multipart uploads');
  const scopes = access === 'read' ? grants.read.concat(grants.write) : grants.write;
  if (!scopes.some((s) => coversKey(s, bucket, key))) return deny(`this job may not ${access} ${uri}`);
  return { allowed: true, bucket, key, access, what: method };
}

function coversKey(s: ObjectScope, bucket: string, key: string): boolean {
  return s.bucket === bucket && ('key' in s ? s.key === key : key.startsWith(s.prefix));
}

/** A listing of `prefix` stays under the scope's prefix (a one-key scope lists nothing: its prefix would match longer keys). */
function coversPrefix(s: ObjectScope, bucket: string, prefix: string): boolean {
  return s.bucket === bucket && !('key' in s) && prefix.startsWith(s.prefix);
}
