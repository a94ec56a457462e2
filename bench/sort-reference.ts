import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Log } from './log.ts';
import { timeCommand } from './measure.ts';
import { LOG_DIR, REF_DIR, shown } from './paths.ts';

const REFERENCE_TIMEOUT_MS = 60 * 60_000;

/** The sort command the bench times and trusts: byte order, 256 MiB of memory, 2 threads. */
export const SORT_ARGV = ['sort', '-S', '256M', '--parallel=2'] as const;
export const SORT_ENV = { LC_ALL: 'C' } as const;

/**
 * The byte-ordered sort of `input`, computed once (untimed) and cached: what every sort
 * case's output must equal byte for byte.
 */
export async function ensureSortReference(input: string, log: Log): Promise<string> {
  const file = join(REF_DIR, `${basename(input)}.sorted`);
  if (existsSync(file)) return file;
  mkdirSync(REF_DIR, { recursive: true });
  mkdirSync(LOG_DIR, { recursive: true });
  log(`computing reference sort ${shown(file)} (LC_ALL=C sort, untimed)`);
  const tmp = `${file}.tmp-${process.pid}`;
  const logFile = join(LOG_DIR, 'reference-sort.log');
  const run = await timeCommand(
    { argv: [...SORT_ARGV, input], env: SORT_ENV, stdoutFile: tmp },
    { stderrFile: logFile, timeoutMs: REFERENCE_TIMEOUT_MS },
  );
  if (run.exitCode !== 0) throw new Error(`sort failed on ${shown(input)}; see ${shown(logFile)}`);
  renameSync(tmp, file);
  return file;
}
