import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The built-in jobs `torpedo run <name>` knows, by name → module path. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  wordcount: join(HERE, 'wordcount.ts'),
  grep: join(HERE, 'grep.ts'),
  'inverted-index': join(HERE, 'inverted-index.ts'),
  sort: join(HERE, 'sort.ts'),
};
