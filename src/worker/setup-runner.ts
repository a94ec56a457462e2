import type { Job, SetupContext } from '../api/job.ts';
import { readSplit } from '../input/split-reader.ts';
import type { Split } from '../input/splits.ts';
import { userError } from './task-context.ts';

export interface SetupRun {
  readonly job: Job;
  readonly jobName: string;
  readonly params: Readonly<Record<string, string>>;
  readonly reducers: number;
  /** All the job's splits; the sampler reads from up to `SAMPLED_SPLITS` evenly spaced ones. */
  readonly splits: readonly Split[];
}

const SAMPLED_SPLITS = 10;

/** Runs the job's `setup` (if any) and returns its result, which must survive JSON. */
export async function runSetup(run: SetupRun): Promise<unknown> {
  const setup = run.job.setup;
  if (setup === undefined) return null;
  const files = [...new Set(run.splits.map((s) => s.file))];
  const ctx: SetupContext = {
    params: run.params,
    reducers: run.reducers,
    files,
    sample: (n) => sample(run.splits, n),
  };
  try {
    const result = await setup(ctx);
    return JSON.parse(JSON.stringify(result ?? null)) as unknown;
  } catch (e) {
    throw userError(e, run.jobName, 'setup');
  }
}

/** TeraSort's sampler: the first n/k records of k evenly spaced splits. */
async function sample(splits: readonly Split[], n: number): Promise<string[]> {
  const k = Math.min(SAMPLED_SPLITS, splits.length);
  if (k === 0 || n <= 0) return [];
  const perSplit = Math.ceil(n / k);
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    const split = splits[Math.floor((i * splits.length) / k)] as Split;
    let taken = 0;
    for await (const chunk of readSplit(split, 1 << 16)) {
      const lines = chunk.buf.toString('utf8', 0, chunk.length).split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) {
        if (taken++ >= perSplit) break;
        out.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
      if (taken >= perSplit) break;
    }
  }
  return out;
}
