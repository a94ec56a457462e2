// The built-in examples' names: the one list `torpedo run` and `torpedo submit`, the manager's
// POST /jobs and the web UI all take (their modules: examples/index.ts, examples/<name>.ts).
// No imports: the web UI imports this file too.

export const EXAMPLE_NAMES = ['wordcount', 'grep', 'inverted-index', 'sort'] as const;

export type ExampleName = (typeof EXAMPLE_NAMES)[number];

export function isExampleName(s: string): s is ExampleName {
  return (EXAMPLE_NAMES as readonly string[]).includes(s);
}

/**
 * The parameters each built-in job declares (its `params`, docs/job-api.md): the job modules
 * export these, and the manager checks POST /jobs against them at submit without loading the
 * module. Plain data, so the web UI can read it too.
 */
export const EXAMPLE_PARAMS = {
  wordcount: {},
  grep: {
    pattern: { required: true, help: 'the regular expression (JavaScript syntax) lines must match' },
    flags: { help: 'regular expression flags, e.g. i to ignore case' },
  },
  'inverted-index': {},
  sort: {},
} as const satisfies Record<ExampleName, Record<string, { required?: boolean; help?: string }>>;

/**
 * The number of reducers a built-in job runs with when none is given, where it is not the
 * engine's 1: grep is map-only (R = 0: each map task writes its matches to part-m-NNNNN, in input
 * order, with no shuffle). `--reducers` (POST /jobs' `reducers`) still chooses.
 */
export const EXAMPLE_REDUCERS: Readonly<Partial<Record<ExampleName, number>>> = { grep: 0 };
