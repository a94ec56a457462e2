import { existsSync, lchownSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildManifest, MANIFEST_FILE, writeManifest } from '../protocol/output-manifest.ts';
import type { JobLayout } from './job-layout.ts';
import { partName, reducePartPath } from './job-layout.ts';

/**
 * Job commit, run by the master (JobCompletion) once every reduce task has committed: moves the
 * part files into the output directory, writes `_SUCCESS` last, then removes `_temporary/`. Each
 * step is a rename or a create, so a crash leaves either committed parts in `_temporary/reduce/`
 * or the output.
 *
 * `_SUCCESS` holds the output's checksum manifest (protocol/output-manifest.ts: each part's size
 * and CRC-32, for `torpedo verify`), computed from the parts once they are in the output, written
 * into `_temporary/` and renamed: it appears whole or not at all. A commit that crashed is
 * finished by a resumed master, which finds some parts already moved and checksums them all.
 * `signal` is the job's abort: a job failed or cancelled while the parts are read gets no
 * `_SUCCESS` (the commit throws the abort's reason).
 *
 * The parts were made by workers, which run users' code: a part must be a regular file, not a
 * link (which the manager, reading the output, would follow to a file of its choice) nor a
 * directory or device. Called when no worker runs any more (see JobCompletion), so nothing can
 * swap an entry between the check and the rename, or under the removal of `_temporary/`.
 */
export async function commitJob(layout: JobLayout, reducers: number, signal?: AbortSignal): Promise<void> {
  const names: string[] = [];
  for (let r = 0; r < reducers; r++) {
    movePart(layout, r);
    names.push(partName(r));
    // Fault injection for the tests: die in the middle of the job commit, as a crash would.
    if (process.env['TORPEDO_TEST_CRASH_IN_COMMIT'] === String(r)) process.kill(process.pid, 'SIGKILL');
  }
  const manifest = await buildManifest(layout.output, names, signal);
  signal?.throwIfAborted();
  await writeManifest(manifest, join(layout.output, MANIFEST_FILE), join(layout.workDir, `${MANIFEST_FILE}.tmp`));
  rmSync(layout.workDir, { recursive: true, force: true });
}

/** Moves reduce task r's committed part into the output, unless a crashed commit already did. */
function movePart(layout: JobLayout, r: number): void {
  const from = reducePartPath(layout, r);
  const to = join(layout.output, partName(r));
  const found = lstatOrUndefined(from);
  if (found !== undefined) {
    if (!found.isFile()) throw new Error(`${from} is not a regular file (a worker made it a ${found.isSymbolicLink() ? 'symbolic link' : 'directory or device'})`);
    renameSync(from, to);
    // A sandboxed worker's uid made it: the output is the master's user's.
    if (process.geteuid?.() === 0) lchownSync(to, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  } else if (!existsSync(to)) throw new Error(`${from} is missing`);
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
