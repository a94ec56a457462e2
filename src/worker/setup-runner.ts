import type { Job, SetupContext } from '../api/job.ts';
import { readSplit } from '../input/split-reader.ts';
import type { Split } from '../input/splits.ts';
import { userError } from './task-context.ts';

export interface SetupRun {
  readonly job: Job;
  readonly jobName: string;
  readonly params: Readonly<Record<string, string>>;
  readonly reducers: number;
  /** The job's input files, each as one whole-file range. */
  readonly files: readonly Split[];
}

/** How many evenly spaced places of the input the sampler reads from. */
const SAMPLE_PLACES = 10;

/** Runs the job's `setup` (if any) and returns its result, which must survive JSON. */
export async function runSetup(run: SetupRun): Promise<unknown> {
  const setup = run.job.setup;
  if (setup === undefined) return null;
  const ctx: SetupContext = {
    params: run.params,
    reducers: run.reducers,
    files: run.files.map((f) => f.file),
    sample: (n) => sampleInput(run.files, n),
  };
  try {
    const result = await setup(ctx);
    return JSON.parse(JSON.stringify(result ?? null)) as unknown;
  } catch (e) {
    throw userError(e, run.jobName, 'setup', undefined, isCodeOrConfigError(e) ? { retryable: false } : {});
  }
}

/**
 * Whether an error setup threw is one that running setup again would throw again: a TypeError,
 * RangeError, SyntaxError or ReferenceError (a bug in the job, or a parameter it cannot use, such
 * as grep's pattern that is no regular expression), not one about the outside world — a system
 * error (it has `errno`/`syscall`), or one with a `cause`, such as fetch's TypeError whose cause
 * is the network's error. The first kind fails the job at its first attempt.
 */
function isCodeOrConfigError(e: unknown): boolean {
  const languageError = e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError;
  return languageError && e.cause === undefined && !('errno' in e) && !('syscall' in e);
}

/**
 * TeraSort's sampler, made independent of how the input is split (so that a range partitioner
 * built on it gives the same part files whatever --split-size): about n/k records from each of k
 * evenly spaced byte positions of the concatenated input, starting at the first line that starts
 * at or after each position. Part of the job contract: the sequential oracle uses it too.
 */
export async function sampleInput(files: readonly Split[], n: number): Promise<string[]> {
  const total = files.reduce((s, f) => s + f.end - f.start, 0);
  if (total === 0 || n <= 0) return [];
  const k = Math.min(SAMPLE_PLACES, n);
  const perPlace = Math.ceil(n / k);
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    let pos = Math.floor((i * total) / k);
    const file = files.find((f) => {
      if (pos < f.end - f.start) return true;
      pos -= f.end - f.start;
      return false;
    }) as Split;
    let taken = 0;
    for await (const chunk of readSplit({ ...file, start: file.start + pos }, 1 << 16)) {
      const lines = chunk.buf.toString('utf8', 0, chunk.length).split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const line of lines) {
        if (taken++ >= perPlace) break;
        out.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      }
      if (taken >= perPlace) break;
    }
  }
  return out;
}
