import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import type { CommandSpec } from './measure.ts';
import { REPO_DIR, shown } from './paths.ts';

export interface TorpedoInvocation {
  readonly command: CommandSpec;
  readonly shownCommand: string;
}

/** A checkout of torpedo whose bin/torpedo runs the torpedo cases: this one, or the one `--compare-repo` names. */
export interface TorpedoCheckout {
  /** Its root: bin/torpedo, src/, and a node_modules of its own (where bin/torpedo keeps its bundle). */
  readonly dir: string;
  /** Set for `--compare-repo`'s checkout, whose cases are twins of this one's: its commit, for their labels. */
  readonly comparedAt?: string;
}

export const THIS_CHECKOUT: TorpedoCheckout = { dir: REPO_DIR };

/** bin/torpedo of a checkout, and as RESULTS.md shows it (relative in this checkout, else absolute). */
export function torpedoBin(checkout: TorpedoCheckout): { readonly path: string; readonly shown: string } {
  const path = join(checkout.dir, 'bin', 'torpedo');
  return { path, shown: checkout.dir === REPO_DIR ? shown(path) : path };
}

/**
 * The id, label and pairing of a torpedo case run from `checkout`: as given for this checkout;
 * for `--compare-repo`'s, a twin of the case with that id, with an id (and so an output) of its own.
 */
export function caseFrom(checkout: TorpedoCheckout, id: string, label: string): Pick<BenchCase, 'id' | 'label' | 'twinOf'> {
  if (checkout.comparedAt === undefined) return { id, label };
  return { id: `${id}-compared`, label: `${label}, --compare-repo at ${checkout.comparedAt}`, twinOf: { id, kind: 'compare-repo' } };
}

/**
 * `node bin/torpedo run JOB --input IN --output OUT [flags] --force --json`, run from this
 * repository's root with the bench's own node binary, whichever checkout's bin/torpedo it is:
 * a job's relative path then names the same file for both. The flags are the bench's contract
 * with the CLI, so they are spelled out here and nowhere else.
 */
export function torpedoRun(job: string, input: string, output: string, flags: readonly string[], checkout = THIS_CHECKOUT): TorpedoInvocation {
  const tail = [...flags, '--force', '--json'];
  const bin = torpedoBin(checkout);
  return {
    command: {
      argv: [process.execPath, bin.path, 'run', job, '--input', input, '--output', output, ...tail],
      cwd: REPO_DIR,
    },
    shownCommand: [`node ${bin.shown} run`, job, '--input', shown(input), '--output', shown(output), ...tail].join(' '),
  };
}

/** The parallelism every large torpedo case uses: 2 workers (one per core here), 4 reducers. */
export const TORPEDO_PARALLEL_FLAGS = ['--reducers', '4', '--workers', '2'] as const;
