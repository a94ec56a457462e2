import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Log } from './log.ts';
import { BENCH_DIR, BUILD_DIR, shown } from './paths.ts';

/**
 * Compiles bench/baselines/wc.c with `cc -O2` into the cache directory (it takes a fraction of
 * a second, so it is rebuilt every time rather than tracked). Returns the binary, or undefined
 * (and says why) when there is no working C compiler, in which case the case is skipped.
 */
export function buildCWordcount(log: Log): string | undefined {
  mkdirSync(BUILD_DIR, { recursive: true });
  const source = join(BENCH_DIR, 'baselines', 'wc.c');
  const binary = join(BUILD_DIR, 'wc');
  const result = spawnSync('cc', ['-O2', '-o', binary, source], { encoding: 'utf8' });
  if (result.status === 0) {
    log(`compiled ${shown(source)} -> ${shown(binary)}`);
    return binary;
  }
  log(`cannot compile ${shown(source)}, skipping the C baseline: ${result.error?.message ?? result.stderr.trim()}`);
  return undefined;
}
