import { join } from 'node:path';
import { mapRunName, partName } from '../protocol/task-names.ts';

export { partName } from '../protocol/task-names.ts';

/**
 * Where a job keeps its state on shared storage, under `OUTPUT/_temporary/` (Hadoop's convention),
 * removed when the job commits:
 *
 *   job.json          the job's spec
 *   job.mjs           the bundled job module every worker imports
 *   setup.json        the result of the job's `setup`, if it has one
 *   attempts/<id>/    an attempt's private scratch space (spills, unpublished output)
 *   map/map-NNNNN.run the committed output of map task N (R sorted segments and an index)
 *   reduce/part-r-NNNNN the committed output of reduce task N, moved to OUTPUT/ at job commit
 *   logs/             worker logs
 *   counters/<task>.json  the counters of each committed task, for a resumed master
 */
export interface JobLayout {
  readonly output: string;
  readonly workDir: string;
  readonly spec: string;
  readonly bundle: string;
  readonly setup: string;
  readonly attempts: string;
  readonly map: string;
  readonly reduce: string;
  readonly logs: string;
  readonly counters: string;
}

export function jobLayout(workDir: string): JobLayout {
  return {
    output: join(workDir, '..'),
    workDir,
    spec: join(workDir, 'job.json'),
    bundle: join(workDir, 'job.mjs'),
    setup: join(workDir, 'setup.json'),
    attempts: join(workDir, 'attempts'),
    map: join(workDir, 'map'),
    reduce: join(workDir, 'reduce'),
    logs: join(workDir, 'logs'),
    counters: join(workDir, 'counters'),
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
