import { join } from 'node:path';
import type { CommandSpec } from './measure.ts';
import { REPO_DIR, shown } from './paths.ts';

export interface TorpedoInvocation {
  readonly command: CommandSpec;
  readonly shownCommand: string;
}

/**
 * `node bin/torpedo run JOB --input IN --output OUT [flags] --force --json`, run from the
 * repository root with the bench's own node binary. The flags are the bench's contract with
 * the CLI, so they are spelled out here and nowhere else.
 */
export function torpedoRun(job: string, input: string, output: string, flags: readonly string[]): TorpedoInvocation {
  const tail = [...flags, '--force', '--json'];
  return {
    command: {
      argv: [process.execPath, join(REPO_DIR, 'bin', 'torpedo'), 'run', job, '--input', input, '--output', output, ...tail],
      cwd: REPO_DIR,
    },
    shownCommand: ['node bin/torpedo run', job, '--input', shown(input), '--output', shown(output), ...tail].join(' '),
  };
}

/** The parallelism every large torpedo case uses: 2 workers (one per core here), 4 reducers. */
export const TORPEDO_PARALLEL_FLAGS = ['--reducers', '4', '--workers', '2'] as const;
