import type { TwinKind } from './bench-case.ts';
import type { CaseOutcome } from './case-summary.ts';
import { median } from './measure.ts';

/**
 * A case against its twin of one kind, from their runs of the same round (run side by side):
 * confined against `--no-sandbox`, or this checkout against `--compare-repo`'s.
 */
export interface PairedCost {
  /** The case's label (not the twin's). */
  readonly label: string;
  readonly pairs: number;
  /** Median of the case's runs in the pairs. */
  readonly caseSeconds: number;
  /** Median of the twin's runs in the pairs. */
  readonly twinSeconds: number;
  /** Median of the pairs' (case − twin), in ms. */
  readonly differenceMs: number;
  /** The same divided by the case's tasks (setup, map, reduce), when its report gave them. */
  readonly differenceMsPerTask: number | undefined;
  /** Median of the pairs' case / twin. */
  readonly ratio: number;
}

/**
 * One row per twin of `kind` whose case ran too. A failed case stops running, so the runs of
 * both, in order, are rounds 1, 2 …: the i-th of each were run side by side.
 */
export function pairedCost(outcomes: readonly CaseOutcome[], kind: TwinKind): PairedCost[] {
  const out: PairedCost[] = [];
  for (const twin of outcomes) {
    const twinOf = twin.benchCase.twinOf;
    if (twinOf === undefined || twinOf.kind !== kind) continue;
    const paired = outcomes.find((o) => o.benchCase.id === twinOf.id);
    if (paired === undefined) continue;
    const pairs = paired.runs.slice(0, twin.runs.length).flatMap((c, i) => {
      const t = twin.runs[i];
      return t === undefined ? [] : [{ c, t }];
    });
    if (pairs.length === 0) continue;
    const difference = median(pairs.map((p) => p.c.wallMs - p.t.wallMs));
    const tasks = paired.runs[0]?.reportedTasks;
    out.push({
      label: paired.benchCase.label,
      pairs: pairs.length,
      caseSeconds: median(pairs.map((p) => p.c.wallMs)) / 1000,
      twinSeconds: median(pairs.map((p) => p.t.wallMs)) / 1000,
      differenceMs: difference,
      differenceMsPerTask: tasks !== undefined && tasks > 0 ? difference / tasks : undefined,
      ratio: median(pairs.map((p) => p.c.wallMs / p.t.wallMs)),
    });
  }
  return out;
}

/** A ratio as the tables of pairs show it: `1.052 (5.2 %)`. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %)`;
}
