import { existsSync, rmSync } from 'node:fs';
import { isTorpedoError } from '../errors.ts';
import { readFooter } from '../shuffle/run-file.ts';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-write.ts';
import { mapOutputPath, partName, reducePartPath, type JobLayout } from './job-layout.ts';
import type { JobTask, JobTasks } from './job-tasks.ts';
import { loadTaskCounters, type JobCounters } from './task-counters.ts';
import { taskName } from './task-name.ts';
import { mapPartName, type PartCompression } from '../protocol/task-names.ts';

/** Whether an attempt (of this master or an earlier one) committed the task's output. */
export function isCommitted(layout: JobLayout, task: Pick<JobTask, 'kind' | 'index'>, compression: PartCompression = 'none', mapOnly = false): boolean {
  if (task.kind === 'setup') return existsSync(layout.setup);
  // A map-only job's map output is a part, which a job commit may have moved already.
  if (task.kind === 'map') return existsSync(mapOutputPath(layout, task.index)) || (mapOnly && existsSync(join(layout.output, mapPartName(task.index, compression))));
  // A reduce part is committed in _temporary/reduce/, or already moved by a job commit.
  return existsSync(reducePartPath(layout, task.index)) || existsSync(join(layout.output, partName(task.index, compression)));
}

/**
 * Restart logic (`--resume`, and a master restarted by Kubernetes): every task whose output an
 * earlier master's attempt committed is done already; only the rest is scheduled. Its counters
 * come from the file the earlier master wrote when it learned of the commit. Called once, by
 * `Master.run`, before the first task is handed out.
 */
export function adoptCommitted(layout: JobLayout, tasks: JobTasks, into: JobCounters, log: (line: string) => void = () => {}, compression: PartCompression = 'none', mapOnly = false): void {
  for (const table of Object.values(tasks.tables)) {
    for (const task of table.tasks) {
      if (!isCommitted(layout, task, compression, mapOnly)) continue;
      // A map-only job's map outputs are parts, not runs: their checksums are checked by `torpedo verify`.
      const damage = task.kind === 'map' && !mapOnly ? mapOutputDamage(mapOutputPath(layout, task.index)) : undefined;
      if (damage !== undefined) {
        // A crash or a bad disk cut it short: the map runs again rather than failing the reduces.
        log(`${taskName(task)}: its committed output cannot be read (${damage}); running it again`);
        rmSync(mapOutputPath(layout, task.index), { force: true });
        continue;
      }
      table.reuse(task);
      const saved = loadTaskCounters(layout, taskName(task));
      into.record(taskName(task), saved.counters, saved.userCounters);
    }
  }
}

/** Why a committed map output cannot be read (its index is damaged, or it is cut off; the message names the file), if it cannot. */
function mapOutputDamage(path: string): string | undefined {
  try {
    readFooter(path);
    return undefined;
  } catch (e) {
    if (isTorpedoError(e) && e.code === 'TORPEDO_ERR_CORRUPT_DATA') return e.message;
    throw e;
  }
}

/**
 * Publishes the setup task's result, for every worker of the job to load; whole or not at all,
 * since a resumed master takes the file's presence for a committed setup. Called by `Master.done`.
 */
export function saveSetupResult(layout: JobLayout, result: unknown): void {
  // Readable by the job's workers (they load it; they may run as a uid of their own), whatever this process's umask.
  writeFileAtomically(layout.setup, JSON.stringify(result ?? null), 0o644);
}

/**
 * Takes back a task's committed output: `Master.done` calls it when it could not note the task
 * as done (its counters, on a full storage), so that a resumed master runs the task again rather
 * than adopt it without them. Nothing reads the output yet: a map's is read only once every map
 * is done, a reduce's at the job commit, and the job is failing.
 */
export function unpublish(layout: JobLayout, task: Pick<JobTask, 'kind' | 'index'>): void {
  const path = task.kind === 'setup' ? layout.setup : task.kind === 'map' ? mapOutputPath(layout, task.index) : reducePartPath(layout, task.index);
  rmSync(path, { force: true });
}
