import { join } from 'node:path';
import { EXAMPLES_DIR } from '../src/paths.ts';
import { EXAMPLE_NAMES } from './names.ts';

export { EXAMPLE_NAMES, isExampleName, type ExampleName } from './names.ts';

/** The built-in jobs `torpedo run <name>` knows, by name → module path (examples/<name>.ts). */
export const EXAMPLES: Readonly<Record<string, string>> = Object.fromEntries(EXAMPLE_NAMES.map((name) => [name, join(EXAMPLES_DIR, `${name}.ts`)]));
