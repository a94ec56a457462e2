import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import { OUT_DIR } from './paths.ts';
import { caseFrom, THIS_CHECKOUT, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts } from './word-counts.ts';
import type { WordcountInput } from './wordcount-cases.ts';

/** Bytes of text for the tiny job: enough for a real output, small enough that startup is all that is timed. */
export const TINY_INPUT_BYTES = 4096;

/**
 * A word count of a few KB with default parallelism: the time from typing the command to its
 * exit is torpedo's fixed cost (process start, planning, workers, commit).
 */
export function torpedoTinyCase(input: WordcountInput, checkout = THIS_CHECKOUT): BenchCase {
  const name = caseFrom(checkout, 'torpedo-tiny', 'torpedo: tiny job (startup)');
  const output = join(OUT_DIR, name.id);
  return {
    ...name,
    workload: 'tiny',
    inputFile: input.file,
    inputBytes: input.bytes,
    torpedo: true,
    throughput: false,
    ...torpedoRun('wordcount', input.file, output, [], checkout),
    output,
    // The runner checks _SUCCESS for every torpedo case.
    check: () => compareCounts(readTsvCounts(output), input.oracle.counts),
  };
}
