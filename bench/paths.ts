import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the bench lives and keeps its (git-ignored) working files. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);
/** Generated inputs, cached across runs by size and seed. */
export const DATA_DIR = join(BENCH_DIR, '.data');
/** Reference outputs the checks compare against, cached by input. */
export const REF_DIR = join(DATA_DIR, 'ref');
/** Each case's latest output, overwritten by the next run. */
export const OUT_DIR = join(DATA_DIR, 'out');
/** Each run's stderr, for reading when a case fails. */
export const LOG_DIR = join(DATA_DIR, 'logs');
export const BUILD_DIR = join(DATA_DIR, 'build');

/** A path as shown in tables and RESULTS.md: relative to the repository root. */
export function shown(path: string): string {
  return relative(REPO_DIR, path) || '.';
}
