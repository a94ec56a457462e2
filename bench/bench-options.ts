import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareRepoProblem } from './compare-repo.ts';
import { parseSize } from './parse-size.ts';
import { BENCH_DIR } from './paths.ts';

/** What `--only` can select. */
export const CASE_GROUPS = ['wordcount', 'streaming', 'sort', 'tiny', 'baselines', 'sandbox', 'compressed', 'smallfiles', 'jsonl'] as const;
export type CaseGroup = (typeof CASE_GROUPS)[number];

export interface BenchOptions {
  /** The command-line arguments, as given, for RESULTS.md. */
  readonly argv: readonly string[];
  readonly sizeBytes: number;
  readonly runs: number;
  readonly seed: number;
  readonly only: ReadonlySet<CaseGroup>;
  readonly dask: boolean;
  readonly timeoutMs: number;
  readonly resultsFile: string;
  /** Absolute: another checkout of torpedo whose bin/torpedo also runs every torpedo case, side by side. */
  readonly compareRepo: string | undefined;
}

export const USAGE = `usage: npm run bench -- [options]

  --size SIZE        input size: 1GB (default), 100MB, 64MiB, 4096 …
  --runs N           timed runs per case; the table shows the median (default 3)
  --only LIST        comma-separated groups (default: all of them):
                       wordcount  torpedo's built-in word count and the "obvious" user job
                       streaming  the word count as a streaming job (Python mapper/reducer)
                       sort       torpedo's built-in sort
                       tiny       a few-KB torpedo job: startup cost
                       baselines  unix tools, Node, C, Dask: those of wordcount and/or sort
                                  if selected, else of both
                       sandbox    the built-in word count and the tiny job again with
                                  --no-sandbox: what the confinement of user code costs
                       compressed the word count of the same text as 8 .gz files and as
                                  one .bz2 file, against zcat | C and bzcat | C
                       smallfiles the word count of 20,000 files of 2 kB (40 MB), against
                                  cat | C
                       jsonl      a job summing a field of --size of JSON lines, against
                                  one Node thread with readline and JSON.parse
  --no-dask          skip the Dask baseline (and its installation)
  --seed S           generator seed (default 42)
  --timeout-min M    kill a run after M minutes (default 30)
  --results FILE     where to write the markdown report (default bench/RESULTS.md)
  --compare-repo DIR run every selected torpedo case also with DIR's bin/torpedo (another
                     checkout, e.g. \`git worktree add DIR COMMIT\`, with a node_modules of
                     its own, not a link to this one's), side by side in every round; a
                     second table compares the pairs`;

/** Parses the bench's flags; prints usage and exits on --help or a bad flag. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        size: { type: 'string', default: '1GB' },
        runs: { type: 'string', default: '3' },
        only: { type: 'string' },
        'no-dask': { type: 'boolean', default: false },
        seed: { type: 'string', default: '42' },
        'timeout-min': { type: 'string', default: '30' },
        results: { type: 'string', default: join(BENCH_DIR, 'RESULTS.md') },
        'compare-repo': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) usageError(`--runs must be a positive integer, got ${values.runs}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) usageError(`--seed must be a non-negative integer, got ${values.seed}`);
  const timeoutMin = Number(values['timeout-min']);
  if (!(timeoutMin > 0)) usageError(`--timeout-min must be positive, got ${values['timeout-min']}`);
  const compareRepo = values['compare-repo'] === undefined ? undefined : resolve(values['compare-repo']);
  const problem = compareRepo === undefined ? undefined : compareRepoProblem(compareRepo);
  if (problem !== undefined) usageError(problem);
  let sizeBytes = 0;
  try {
    sizeBytes = parseSize(values.size);
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  return {
    argv: [...argv],
    sizeBytes,
    runs,
    seed,
    only: parseOnly(values.only),
    dask: !values['no-dask'],
    timeoutMs: timeoutMin * 60_000,
    resultsFile: values.results,
    compareRepo,
  };
}

function parseOnly(list: string | undefined): ReadonlySet<CaseGroup> {
  if (list === undefined) return new Set(CASE_GROUPS);
  const groups = new Set<CaseGroup>();
  for (const name of list.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const group = CASE_GROUPS.find((g) => g === name);
    if (group === undefined) usageError(`--only: unknown group "${name}" (choose from ${CASE_GROUPS.join(', ')})`);
    groups.add(group);
  }
  if (groups.size === 0) usageError('--only needs at least one group');
  return groups;
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}
