import { rmSync } from 'node:fs';
import type { ErrorReport } from '../protocol/messages.ts';
import type { Clock } from './clock.ts';
import { mapOutputPath, type JobLayout } from './job-layout.ts';
import type { JobPhases } from './job-phases.ts';
import type { JobTask, JobTasks } from './job-tasks.ts';
import type { JobCounters } from './task-counters.ts';
import { taskName } from './task-name.ts';
import type { Attempt } from './task-table.ts';

/** Times a map task is run again for an unreadable output before the job fails instead. */
export const MAX_MAP_RERUNS = 1;
/** The job counter of those re-runs. */
export const RERUN_COUNTER = 'map outputs re-run';

/** What handling an unreadable map output works on: the master's tasks, phases and job directory. */
export interface RerunParts {
  readonly tasks: JobTasks;
  readonly phases: JobPhases;
  readonly layout: JobLayout;
  readonly counters: JobCounters;
  readonly clock: Clock;
  fail(error: ErrorReport): void;
  changed(): void;
  log(line: string): void;
}

/**
 * A reduce attempt could not read map task `report.mapOutput`'s committed output: damaged (a
 * checksum did not match), cut off, or missing. The paper's rule: that map is executed again and
 * the reduce goes on once it has committed; neither counts as a failed attempt. The bad file is
 * removed, the job goes back to the map phase (running reduces go on), and `map outputs re-run`
 * counts it. A map whose output is unreadable again after MAX_MAP_RERUNS fails the job, naming
 * the file and both tasks. Called by the master for a reduce attempt's failure report.
 */
export function mapOutputUnreadable(parts: RerunParts, reduce: JobTask, attempt: Attempt, report: ErrorReport & { mapOutput: number }): void {
  const { tasks, phases, layout, clock } = parts;
  const map = tasks.tables.map.tasks[report.mapOutput];
  tasks.tables.reduce.requeue(reduce, attempt, clock.now(), report.message);
  parts.changed();
  if (map === undefined) {
    parts.fail({ ...report, code: 'TORPEDO_ERR_PROTOCOL', message: `${taskName(reduce)} reported map ${report.mapOutput}'s output unreadable; the job has no such map` });
    return;
  }
  // Already being run again, or committed again since this attempt opened the old file.
  if (map.state !== 'done' || (map.committedAt !== undefined && attempt.startedAt < map.committedAt)) return;
  const path = mapOutputPath(layout, map.index);
  if (map.reruns >= MAX_MAP_RERUNS) {
    parts.fail({ code: 'TORPEDO_ERR_CORRUPT_DATA', file: path, message: `${taskName(reduce)} could not read the output of ${taskName(map)}, which was run again for that already: ${report.message}` });
    return;
  }
  parts.log(`${taskName(reduce)} could not read the output of ${taskName(map)} (${report.message}): running ${taskName(map)} again`);
  rmSync(path, { force: true });
  tasks.tables.map.redo(map);
  parts.counters.bump(RERUN_COUNTER);
  if (phases.current === 'reduce') phases.fire('map-output-lost');
  parts.changed();
}
