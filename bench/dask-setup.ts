import { spawnSync } from 'node:child_process';
import type { Log } from './log.ts';

/**
 * Debian's python, not whatever `python3` is first on PATH: a pyenv python does not see the
 * python3-dask package.
 */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * Dask's version if `import dask.bag` works in the system python. If it does not, installs
 * python3-dask with apt-get (when running as root with apt-get available) and tries again;
 * returns undefined, having said why, when Dask still cannot be used.
 */
export function ensureDask(log: Log): string | undefined {
  const found = daskVersion();
  if (found !== undefined) return found;
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) {
    log(`dask is not importable by ${SYSTEM_PYTHON} and apt-get cannot be used here: skipping the Dask baseline`);
    return undefined;
  }
  log('installing python3-dask with apt-get (once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', 'python3-dask']]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed: skipping the Dask baseline`);
      return undefined;
    }
  }
  const installed = daskVersion();
  if (installed === undefined) log('python3-dask installed but `import dask.bag` still fails: skipping the Dask baseline');
  return installed;
}

function daskVersion(): string | undefined {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', 'import dask, dask.bag, dask.multiprocessing; print(dask.__version__)'], {
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
