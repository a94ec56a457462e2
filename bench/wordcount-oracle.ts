import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Log } from './log.ts';
import { timeCommand } from './measure.ts';
import { BENCH_DIR, LOG_DIR, REF_DIR, shown } from './paths.ts';
import { byteLocaleCounts, readTsvCounts, type WordCounts } from './word-counts.ts';

const NODE_WORDCOUNT = join(BENCH_DIR, 'baselines', 'node-wordcount.mjs');
const ORACLE_TIMEOUT_MS = 60 * 60_000;

/**
 * The expected word counts of one input: the single-threaded Node word count's output, which
 * uses torpedo's word rule (Unicode letters, digits, '_' and "'", lower-cased). It is computed
 * once per input and cached, keyed by a hash of the script so a changed rule is recomputed.
 */
export class WordcountOracle {
  readonly file: string;
  #counts: WordCounts | undefined;
  #byteLocale: WordCounts | undefined;

  private constructor(file: string) {
    this.file = file;
  }

  /** Loads or computes (a run of the Node baseline, untimed) the oracle for `input`. */
  static async forInput(input: string, log: Log): Promise<WordcountOracle> {
    const scriptHash = createHash('sha256').update(readFileSync(NODE_WORDCOUNT)).digest('hex').slice(0, 10);
    const file = join(REF_DIR, `${basename(input)}.counts-${scriptHash}.tsv`);
    // Written under a temporary name and renamed, so an existing file is complete.
    if (existsSync(file)) return new WordcountOracle(file);
    mkdirSync(REF_DIR, { recursive: true });
    mkdirSync(LOG_DIR, { recursive: true });
    log(`computing reference word counts ${shown(file)} (Node baseline, untimed)`);
    const tmp = `${file}.tmp-${process.pid}`;
    const run = await timeCommand(
      { argv: [process.execPath, NODE_WORDCOUNT, input, tmp] },
      { stderrFile: join(LOG_DIR, 'reference-wordcount.log'), timeoutMs: ORACLE_TIMEOUT_MS },
    );
    if (run.exitCode !== 0) throw new Error(`the Node word count failed on ${shown(input)}; see ${shown(join(LOG_DIR, 'reference-wordcount.log'))}`);
    renameSync(tmp, file);
    return new WordcountOracle(file);
  }

  /** Word → count under the Unicode rule. */
  get counts(): WordCounts {
    if (this.#counts === undefined) {
      const read = readTsvCounts(this.file);
      if ('error' in read) throw new Error(`corrupt reference ${shown(this.file)}: ${read.error}; delete it to recompute`);
      this.#counts = read.counts;
    }
    return this.#counts;
  }

  /** What the byte-oriented LC_ALL=C tr pipeline should count on the same input. */
  get byteLocaleCounts(): WordCounts {
    this.#byteLocale ??= byteLocaleCounts(this.counts);
    return this.#byteLocale;
  }
}
