import { TorpedoError } from '../errors.ts';
import { StorageError } from '../storage/storage-errors.ts';
import { isRemoteUri, storageFor } from '../storage/storage-uri.ts';
import { isHiddenKey } from '../storage/storage.ts';
import { listInputs, type InputFile, type InputListing } from './input-files.ts';

// Inputs in an object store (`s3://bucket/prefix/`, `s3://bucket/key`), listed for planning as
// files are: every object under a prefix, in key order, skipping names that start with `_` or
// `.` (Hadoop's rule, as for directories), paged past 1,000 keys by the storage.

/**
 * The input files of a job whose inputs may be local paths or object URIs, in the order given:
 * local ones as `listInputs` finds them, remote ones as `listObjects` does.
 */
export async function listAnyInputs(paths: readonly string[]): Promise<InputListing> {
  if (!paths.some(isRemoteUri)) return listInputs(paths);
  const files: InputFile[] = [];
  const linkedOutside: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    const found = isRemoteUri(p) ? await listObjects(p) : listInputs([p]);
    if (!isRemoteUri(p)) linkedOutside.push(...(found as InputListing).linkedOutside);
    for (const f of 'files' in found ? found.files : found) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      files.push(f);
    }
  }
  return { files, linkedOutside };
}

/**
 * The objects an input URI names: the one object at its key, else (or for a key ending in `/`)
 * every object under the key as a prefix. Nothing there is TORPEDO_ERR_INPUT_NOT_FOUND naming
 * the URI; a missing bucket, missing credentials or a refusal is the storage's StorageError, naming it.
 */
export async function listObjects(uri: string): Promise<InputFile[]> {
  const { storage, key } = storageFor(uri);
  const bucketUri = uri.slice(0, uri.length - key.length);
  if (key !== '' && !key.endsWith('/')) {
      try {
        const st = await storage.stat(key);
        return [{ path: uri, size: st.size, mtimeMs: st.mtimeMs, etag: st.etag }];
      } catch (e) {
        if (!(e instanceof StorageError && e.reason === 'not-found')) throw e;
      }
    }
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const files: InputFile[] = [];
    for await (const e of storage.list(prefix)) {
      if (isHiddenKey(e.key, prefix)) continue;
      files.push({ path: `${bucketUri}${e.key}`, size: e.size, mtimeMs: e.mtimeMs, etag: e.etag });
    }
  if (files.length === 0) throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input ${JSON.stringify(uri)} names no object (nothing at that key, and none under it but hidden ones)`, { file: uri });
  return files;
}
