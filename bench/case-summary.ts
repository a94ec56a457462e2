import type { BenchCase, RatioBase } from './bench-case.ts';
import type { RunResult } from './case-runner.ts';
import { median, minimum } from './measure.ts';

/** Everything measured for one case over all runs. */
export interface CaseOutcome {
  readonly benchCase: BenchCase;
  readonly runs: readonly RunResult[];
  /** Set when a run failed; later runs of the case are skipped. */
  readonly failure: string | undefined;
}

/** One row of the results table. */
export interface CaseSummary {
  readonly benchCase: BenchCase;
  readonly runCount: number;
  readonly failure: string | undefined;
  readonly medianSeconds: number | undefined;
  readonly minSeconds: number | undefined;
  readonly megabytesPerSecond: number | undefined;
  /** This case's median divided by the C (or Unix) baseline's median for the same workload. */
  readonly ratio: Readonly<Record<RatioBase, number | undefined>>;
  readonly peakRssBytes: number | undefined;
  /** "ok" if every run's output checked out, else the first mismatch. */
  readonly check: string;
}

/**
 * Turns raw runs into table rows. Ratios divide by baselines measured in the same bench run,
 * interleaved with the case, so machine noise moves both sides alike.
 */
export function summarize(outcomes: readonly CaseOutcome[]): CaseSummary[] {
  const medians = new Map(outcomes.map((o) => [o.benchCase, o.runs.length > 0 ? median(o.runs.map((r) => r.wallMs)) : undefined]));
  const baseMedian = (workload: string, base: RatioBase): number | undefined => {
    const baseline = outcomes.find((o) => o.benchCase.workload === workload && o.benchCase.ratioBase === base && o.failure === undefined);
    return baseline === undefined ? undefined : medians.get(baseline.benchCase);
  };

  return outcomes.map((o) => {
    const medianMs = medians.get(o.benchCase);
    const { workload, inputBytes, throughput } = o.benchCase;
    const ratioTo = (base: RatioBase): number | undefined => {
      const denominator = baseMedian(workload, base);
      return medianMs === undefined || denominator === undefined || o.failure !== undefined ? undefined : medianMs / denominator;
    };
    const rss = o.runs.flatMap((r) => (r.peakRssBytes === undefined ? [] : [r.peakRssBytes]));
    return {
      benchCase: o.benchCase,
      runCount: o.runs.length,
      failure: o.failure,
      medianSeconds: medianMs === undefined ? undefined : medianMs / 1000,
      minSeconds: o.runs.length > 0 ? minimum(o.runs.map((r) => r.wallMs)) / 1000 : undefined,
      megabytesPerSecond: medianMs === undefined || !throughput ? undefined : inputBytes / 1e6 / (medianMs / 1000),
      ratio: { c: ratioTo('c'), unix: ratioTo('unix') },
      peakRssBytes: rss.length > 0 ? Math.max(...rss) : undefined,
      check: o.runs.find((r) => r.check !== 'ok')?.check ?? (o.runs.length > 0 ? 'ok' : '—'),
    };
  });
}
