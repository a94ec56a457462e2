import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import { formatRatio, type PairedCost } from './paired-cost.ts';
import { OUT_DIR } from './paths.ts';
import { TORPEDO_PARALLEL_FLAGS, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts } from './word-counts.ts';
import type { WordcountInput } from './wordcount-cases.ts';

/**
 * The built-in word count and the tiny job with `--no-sandbox`: no bubblewrap, no uid of their
 * own, no Node permission model. Each is the unconfined twin of a confined case (the default)
 * measured in the same run, interleaved with it, which `pairedCost` pairs run by run.
 */
export function unconfinedCases(wordcount: WordcountInput, tiny: WordcountInput): BenchCase[] {
  const twins = [
    { id: 'torpedo-wordcount-unconfined', twin: 'torpedo-wordcount', label: 'torpedo: built-in wordcount, --no-sandbox', input: wordcount, workload: 'wordcount', flags: TORPEDO_PARALLEL_FLAGS, throughput: true },
    { id: 'torpedo-tiny-unconfined', twin: 'torpedo-tiny', label: 'torpedo: tiny job, --no-sandbox', input: tiny, workload: 'tiny', flags: [], throughput: false },
  ] as const;
  return twins.map((t) => {
    const output = join(OUT_DIR, t.id);
    return {
      id: t.id,
      label: t.label,
      workload: t.workload,
      inputFile: t.input.file,
      inputBytes: t.input.bytes,
      torpedo: true,
      throughput: t.throughput,
      twinOf: { id: t.twin, kind: 'unconfined' },
      ...torpedoRun('wordcount', t.input.file, output, [...t.flags, '--no-sandbox']),
      output,
      check: () => compareCounts(readTsvCounts(output), t.input.oracle.counts),
    };
  });
}

/** The confined cases against their `--no-sandbox` twins: `pairedCost(outcomes, 'unconfined')`. */
export function renderConfinementTable(rows: readonly PairedCost[]): string {
  const lines = [
    '| case | runs | confined median s | --no-sandbox median s | extra (median of pairs) | per task | confined / unconfined |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const perTask = r.differenceMsPerTask === undefined ? '?' : `${r.differenceMsPerTask.toFixed(0)} ms`;
    lines.push(`| ${r.label} | ${r.pairs} | ${r.caseSeconds.toFixed(2)} | ${r.twinSeconds.toFixed(2)} | ${r.differenceMs.toFixed(0)} ms | ${perTask} | ${formatRatio(r.ratio)} |`);
  }
  return lines.join('\n');
}
