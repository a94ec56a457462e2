import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { attemptLogsDir } from '../protocol/attempt-logs.ts';
import { mapRunName, partName } from '../protocol/task-names.ts';

export { partName } from '../protocol/task-names.ts';

/**
 * Where a job keeps its state on shared storage, under `OUTPUT/_temporary/` (Hadoop's convention),
 * removed when the job commits:
 *
 *   job.json          the job's spec
 *   job.mjs           the bundled job module every worker imports
 *   files/            the job's side files (`--file`), if it has any
 *   setup.json        the result of the job's `setup`, if it has one
 *   attempts/<id>/    an attempt's private scratch space (spills, unpublished output)
 *   map/map-NNNNN.run the committed output of map task N (R sorted segments and an index)
 *   reduce/part-r-NNNNN the committed output of reduce task N, moved to OUTPUT/ at job commit
 *   logs/             worker logs
 *   counters/<task>.json  the counters of each committed task, for a resumed master
 *   master.json       while a master runs the job: its pid and host (`torpedo logs --follow`)
 *
 * and, beside it, kept after the commit: `OUTPUT/_logs/<attemptId>.log`, each attempt's log
 * (protocol/attempt-logs.ts).
 */
export interface JobLayout {
  readonly output: string;
  readonly workDir: string;
  readonly spec: string;
  readonly bundle: string;
  /** The job's side files (`--file`): a streaming job's, copied into each task's directory, or a JavaScript job's, `ctx.files`. */
  readonly files: string;
  readonly setup: string;
  readonly attempts: string;
  readonly map: string;
  readonly reduce: string;
  readonly logs: string;
  readonly counters: string;
  readonly masterMark: string;
  /** OUTPUT/_logs: attempts' logs, which outlive the job. */
  readonly attemptLogs: string;
}

export function jobLayout(workDir: string): JobLayout {
  return {
    output: join(workDir, '..'),
    workDir,
    spec: join(workDir, 'job.json'),
    bundle: join(workDir, 'job.mjs'),
    files: join(workDir, 'files'),
    setup: join(workDir, 'setup.json'),
    attempts: join(workDir, 'attempts'),
    map: join(workDir, 'map'),
    reduce: join(workDir, 'reduce'),
    logs: join(workDir, 'logs'),
    counters: join(workDir, 'counters'),
    masterMark: join(workDir, 'master.json'),
    attemptLogs: attemptLogsDir(join(workDir, '..')),
  };
}

export function layoutForOutput(output: string): JobLayout {
  return jobLayout(join(output, '_temporary'));
}

export function mapOutputPath(layout: JobLayout, m: number): string {
  return join(layout.map, mapRunName(m));
}

export function reducePartPath(layout: JobLayout, r: number): string {
  return join(layout.reduce, partName(r));
}

/** What master.json holds: which process on which host runs the job's master. */
export interface MasterMark {
  readonly pid: number;
  readonly host: string;
}

/** Written by the master when it starts, removed when it ends (a crashed one leaves a pid that is gone). */
export function markMasterRunning(layout: JobLayout): void {
  const mark: MasterMark = { pid: process.pid, host: hostname() };
  writeFileSync(layout.masterMark, `${JSON.stringify(mark)}\n`);
}

/**
 * Whether a master is running the job: master.json exists and, if it was written on this host,
 * its process is alive. Called by `torpedo logs --follow` for a local output.
 */
export function masterRunning(layout: JobLayout): boolean {
  let mark: MasterMark;
  try {
    mark = JSON.parse(readFileSync(layout.masterMark, 'utf8')) as MasterMark;
  } catch {
    return false;
  }
  if (mark.host !== hostname()) return true;
  try {
    process.kill(mark.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
