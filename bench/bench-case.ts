import type { CommandSpec } from './measure.ts';

export type Workload = 'wordcount' | 'wordcount-gz' | 'wordcount-bz2' | 'wordcount-small' | 'jsonl-sum' | 'sort' | 'tiny';

/** The baselines other cases are divided by, in the "× C" and "× unix" columns. */
export type RatioBase = 'c' | 'unix';

/**
 * How a twin differs from the case it runs side by side with: `unconfined`, the same command
 * with `--no-sandbox`; `compare-repo`, the same command from the checkout `--compare-repo` names.
 */
export type TwinKind = 'unconfined' | 'compare-repo';

export interface TwinOf {
  /** The id of the case this one is paired with. */
  readonly id: string;
  readonly kind: TwinKind;
}

/** One command the bench times, with how to judge its output. */
export interface BenchCase {
  /** Unique and file-name-safe: names the output and log files. */
  readonly id: string;
  readonly label: string;
  readonly workload: Workload;
  readonly inputFile: string;
  readonly inputBytes: number;
  readonly command: CommandSpec;
  /** The command as RESULTS.md shows it, with repository-relative paths. */
  readonly shownCommand: string;
  /** What the command writes (a file or directory); removed before each run, outside the timing. */
  readonly output: string;
  /** Set on the case other cases of the workload are compared with. */
  readonly ratioBase?: RatioBase;
  /** Set on a twin: the case it is paired with, run by run, in the tables of pairs (paired-cost.ts). */
  readonly twinOf?: TwinOf;
  /** A torpedo run: it must exit 0 and print a --json report with status "succeeded". */
  readonly torpedo: boolean;
  /** False where MB/s means nothing (the tiny job measures startup). */
  readonly throughput: boolean;
  /** Called after each successful run: "ok", or "MISMATCH: …" saying what differs. */
  check(): string;
}
