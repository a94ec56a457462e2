import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import type { CaseOutcome } from './case-summary.ts';
import { median } from './measure.ts';
import { OUT_DIR } from './paths.ts';
import { TORPEDO_PARALLEL_FLAGS, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts } from './word-counts.ts';
import type { WordcountInput } from './wordcount-cases.ts';

/**
 * The built-in word count and the tiny job with `--no-sandbox`: no bubblewrap, no uid of their
 * own, no Node permission model. Each is the unconfined twin of a confined case (the default)
 * measured in the same run, interleaved with it, which `confinementCost` pairs run by run.
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
      unconfinedTwinOf: t.twin,
      ...torpedoRun('wordcount', t.input.file, output, [...t.flags, '--no-sandbox']),
      output,
      check: () => compareCounts(readTsvCounts(output), t.input.oracle.counts),
    };
  });
}

/** What confining a job cost, from its runs and its unconfined twin's (same run number: run side by side). */
export interface ConfinementCost {
  readonly label: string;
  readonly pairs: number;
  readonly confinedSeconds: number;
  readonly unconfinedSeconds: number;
  /** Median of the runs' (confined − unconfined), in ms. */
  readonly extraMs: number;
  /** The same divided by the job's tasks (setup, map, reduce). */
  readonly extraMsPerTask: number | undefined;
  /** Median of the runs' confined / unconfined. */
  readonly ratio: number;
}

export function confinementCost(outcomes: readonly CaseOutcome[]): ConfinementCost[] {
  const out: ConfinementCost[] = [];
  for (const free of outcomes) {
    const twinId = free.benchCase.unconfinedTwinOf;
    const confined = outcomes.find((o) => o.benchCase.id === twinId);
    if (twinId === undefined || confined === undefined) continue;
    const n = Math.min(free.runs.length, confined.runs.length);
    if (n === 0) continue;
    const pairs = Array.from({ length: n }, (_, i) => ({ c: confined.runs[i], f: free.runs[i] })).filter((p) => p.c !== undefined && p.f !== undefined) as { c: CaseOutcome['runs'][number]; f: CaseOutcome['runs'][number] }[];
    const extra = median(pairs.map((p) => p.c.wallMs - p.f.wallMs));
    const tasks = confined.runs[0]?.reportedTasks;
    out.push({
      label: confined.benchCase.label,
      pairs: pairs.length,
      confinedSeconds: median(pairs.map((p) => p.c.wallMs)) / 1000,
      unconfinedSeconds: median(pairs.map((p) => p.f.wallMs)) / 1000,
      extraMs: extra,
      extraMsPerTask: tasks !== undefined && tasks > 0 ? extra / tasks : undefined,
      ratio: median(pairs.map((p) => p.c.wallMs / p.f.wallMs)),
    });
  }
  return out;
}

export function renderConfinementTable(rows: readonly ConfinementCost[]): string {
  const lines = [
    '| case | runs | confined median s | --no-sandbox median s | extra (median of pairs) | per task | confined / unconfined |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const perTask = r.extraMsPerTask === undefined ? '?' : `${r.extraMsPerTask.toFixed(0)} ms`;
    lines.push(`| ${r.label} | ${r.pairs} | ${r.confinedSeconds.toFixed(2)} | ${r.unconfinedSeconds.toFixed(2)} | ${r.extraMs.toFixed(0)} ms | ${perTask} | ${r.ratio.toFixed(3)} (${((r.ratio - 1) * 100).toFixed(1)} %) |`);
  }
  return lines.join('\n');
}
