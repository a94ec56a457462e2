import { closeSync, existsSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JobLayout } from './job-layout.ts';
import { partName, reducePartPath } from './job-layout.ts';

/**
 * Job commit, run by the master once every reduce task has committed: moves the part files into
 * the output directory, writes `_SUCCESS` last, then removes `_temporary/`. Each step is a rename
 * or a create, so a crash leaves either committed parts in `_temporary/reduce/` or the output.
 */
export function commitJob(layout: JobLayout, reducers: number): void {
  for (let r = 0; r < reducers; r++) {
    const from = reducePartPath(layout, r);
    const to = join(layout.output, partName(r));
    if (existsSync(from)) renameSync(from, to);
    else if (!existsSync(to)) throw new Error(`${from} is missing`);
    // Fault injection for the tests: die in the middle of the job commit, as a crash would.
    if (process.env['TORPEDO_TEST_CRASH_IN_COMMIT'] === String(r)) process.kill(process.pid, 'SIGKILL');
  }
  closeSync(openSync(join(layout.output, '_SUCCESS'), 'w'));
  rmSync(layout.workDir, { recursive: true, force: true });
}
