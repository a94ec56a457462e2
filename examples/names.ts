// The built-in examples' names: the one list `torpedo run` and `torpedo submit`, the manager's
// POST /jobs and the web UI all take (their modules: examples/index.ts, examples/<name>.ts).
// No imports: the web UI imports this file too.

export const EXAMPLE_NAMES = ['wordcount', 'grep', 'inverted-index', 'sort'] as const;

export type ExampleName = (typeof EXAMPLE_NAMES)[number];

export function isExampleName(s: string): s is ExampleName {
  return (EXAMPLE_NAMES as readonly string[]).includes(s);
}
