import { closeSync, existsSync, lchownSync, lstatSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JobLayout } from './job-layout.ts';
import { partName, reducePartPath } from './job-layout.ts';

/**
 * Job commit, run by the master once every reduce task has committed: moves the part files into
 * the output directory, writes `_SUCCESS` last, then removes `_temporary/`. Each step is a rename
 * or a create, so a crash leaves either committed parts in `_temporary/reduce/` or the output.
 *
 * The parts were made by workers, which run users' code: a part must be a regular file, not a
 * link (which the manager, reading the output, would follow to a file of its choice) nor a
 * directory or device. Called when no worker runs any more (see Master), so nothing can swap an
 * entry between the check and the rename, or under the removal of `_temporary/`.
 */
export function commitJob(layout: JobLayout, reducers: number): void {
  for (let r = 0; r < reducers; r++) {
    const from = reducePartPath(layout, r);
    const to = join(layout.output, partName(r));
    const found = lstatOrUndefined(from);
    if (found !== undefined) {
      if (!found.isFile()) throw new Error(`${from} is not a regular file (a worker made it a ${found.isSymbolicLink() ? 'symbolic link' : 'directory or device'})`);
      renameSync(from, to);
      // A sandboxed worker's uid made it: the output is the master's user's.
      if (process.geteuid?.() === 0) lchownSync(to, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    } else if (!existsSync(to)) throw new Error(`${from} is missing`);
    // Fault injection for the tests: die in the middle of the job commit, as a crash would.
    if (process.env['TORPEDO_TEST_CRASH_IN_COMMIT'] === String(r)) process.kill(process.pid, 'SIGKILL');
  }
  closeSync(openSync(join(layout.output, '_SUCCESS'), 'w'));
  rmSync(layout.workDir, { recursive: true, force: true });
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
