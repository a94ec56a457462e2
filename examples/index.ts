import { join } from 'node:path';
import { EXAMPLES_DIR } from '../src/paths.ts';

/** The built-in jobs `torpedo run <name>` knows, by name → module path. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  wordcount: join(EXAMPLES_DIR, 'wordcount.ts'),
  grep: join(EXAMPLES_DIR, 'grep.ts'),
  'inverted-index': join(EXAMPLES_DIR, 'inverted-index.ts'),
  sort: join(EXAMPLES_DIR, 'sort.ts'),
};
