import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { MANIFEST_FILE } from '../protocol/output-manifest.ts';
import { isRemoteUri, parseStorageUri, storageFor } from '../storage/storage-uri.ts';
import { writeFrom } from '../storage/storage.ts';

// A local job (`torpedo run`) whose output is in an object store runs, commits and checks its
// output in a staging directory on this machine, exactly as a local output, and is then
// published: every file uploaded to the output prefix, `_SUCCESS` last (Hadoop's staging
// committer's idea: task outputs on local disk, uploaded at job commit). All of today's commit
// guarantees hold in the staging directory; an upload is visible only whole (a multipart upload
// completes at once), and `_SUCCESS` says the output is complete. A crash while publishing
// leaves the staging directory, with its _SUCCESS, and `--resume` publishes it again
// (uploads are idempotent: the same bytes under the same keys). Clusters with no shared
// volume are to commit by master-recorded pending uploads instead (docs/object-store-commit.md).

/** Where the output `uri` is staged: TORPEDO_STAGING_DIR, else ~/.cache/torpedo/outputs, one directory per URI. */
export function stagingDir(uri: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const root = env['TORPEDO_STAGING_DIR'] ?? join(homedir(), '.cache', 'torpedo', 'outputs');
  return join(root, createHash('sha256').update(uri).digest('hex').slice(0, 16));
}

/** The prefix (ending in `/`) an output URI names: its key, as a "directory". */
function outputPrefix(uri: string): string {
  const { key } = storageFor(uri);
  return key === '' || key.endsWith('/') ? key : `${key}/`;
}

/**
 * Refuses an output prefix that overlaps an input in the same bucket, or (without `force`) holds
 * objects already; with `force`, removes them. Before the job touches anything.
 */
export async function claimRemoteOutput(uri: string, inputs: readonly string[], force: boolean): Promise<void> {
  const out = parseStorageUri(uri);
  if (out.scheme !== 's3') return;
  const prefix = outputPrefix(uri);
  for (const input of inputs.filter(isRemoteUri)) {
    const at = parseStorageUri(input);
    if (at.scheme !== 's3' || at.bucket !== out.bucket) continue;
    // The input as a "directory" too: `s3://b/logs` may name an object or every key under logs/.
    const asPrefix = at.key === '' || at.key.endsWith('/') ? at.key : `${at.key}/`;
    if (at.key.startsWith(prefix) || prefix.startsWith(asPrefix)) {
      throw new TorpedoError('TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT', `output ${JSON.stringify(uri)} overlaps input ${JSON.stringify(input)}; choose an output prefix outside the inputs`);
    }
  }
  const { storage } = storageFor(uri);
  const page = await storage.listPage(prefix, { limit: 1 });
  if (page.entries.length === 0) return;
  if (!force) throw new TorpedoError('TORPEDO_ERR_OUTPUT_EXISTS', `output ${JSON.stringify(uri)} holds objects already; pass --force to replace them`);
  await storage.deletePrefix(prefix);
}

/** Whether the staging directory of `uri` holds a finished job's output (its _SUCCESS), not yet published. */
export function stagedComplete(staging: string): boolean {
  return existsSync(join(staging, MANIFEST_FILE));
}

/**
 * Uploads a finished job's staged output to `uri`: the parts and named outputs, then `_logs/`,
 * then `_SUCCESS` last; `_temporary` is not published. Returns what it stored.
 */
export async function publishOutput(staging: string, uri: string): Promise<{ files: number; bytes: number }> {
  const { storage } = storageFor(uri);
  const prefix = outputPrefix(uri);
  const files = listFiles(staging).filter((f) => !f.startsWith('_temporary/') && f !== MANIFEST_FILE);
  // Parts first, the logs after them, _SUCCESS last: a reader that sees it sees everything.
  files.sort((a, b) => Number(a.startsWith('_')) - Number(b.startsWith('_')) || (a < b ? -1 : a > b ? 1 : 0));
  let bytes = 0;
  for (const [i, f] of [...files, MANIFEST_FILE].entries()) {
    // Fault injection for the tests: die in the middle of publishing, as a crash would.
    if (process.env['TORPEDO_TEST_CRASH_IN_PUBLISH'] === String(i)) process.kill(process.pid, 'SIGKILL');
    bytes += (await writeFrom(storage, `${prefix}${f}`, createReadStream(join(staging, f)))).size;
  }
  return { files: files.length + 1, bytes };
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), root) : e.isFile() ? [relative(root, join(dir, e.name))] : []));
}
