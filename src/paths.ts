import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The torpedo package's root directory. Found by walking up from this module, so that it is right
 * both when running from `src/` and from the bundle bin/torpedo builds under node_modules/.cache.
 */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'torpedo') return dir;
    if (dirname(dir) === dir) throw new Error(`torpedo's package.json not found above ${from}`);
  }
}

/**
 * What a sandboxed torpedo process (a worker, a probe) must be able to read to run: the package,
 * and, when it is installed as a dependency (ROOT is `<project>/node_modules/torpedo`), the
 * node_modules directory it sits in, where npm puts its own dependencies. Read-only everywhere.
 */
export const PACKAGE_DIRS: readonly string[] = [ROOT, ...(basename(dirname(ROOT)) === 'node_modules' ? [dirname(ROOT)] : [])];

export const BIN = join(ROOT, 'bin', 'torpedo');
export const API_ENTRY = join(ROOT, 'src', 'api', 'index.ts');
export const EXAMPLES_DIR = join(ROOT, 'examples');
