import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isNoSpace, noSpaceError } from '../errors.ts';

/**
 * Writes `data` to `path` whole or not at all: into `path.tmp`, then renamed over `path`. A write
 * that fails removes the temporary file, so nothing half-written stays behind, and a full storage
 * is TORPEDO_ERR_NO_SPACE naming `path`. Who calls: the master's own bookkeeping that a resumed
 * master reads back (the job spec, the setup result, each task's counters). `mode`: the file's
 * exact mode, whatever the process's umask.
 */
export function writeFileAtomically(path: string, data: string, mode?: number): void {
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, data);
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw isNoSpace(e) ? noSpaceError(e, 'writing', path) : e;
  }
}
