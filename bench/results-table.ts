import type { CaseSummary } from './case-summary.ts';
import { formatSize } from './parse-size.ts';

const HEADER = ['case', 'input', 'median s', 'min s', 'MB/s', '× C', '× unix', 'peak RSS MB', 'check'] as const;
const RIGHT_ALIGNED = new Set([2, 3, 4, 5, 6, 7]);

/**
 * The results as a markdown table, padded so it also reads well in a terminal. "× C" is the
 * case's median time over the C word count's (2.0× = half the speed); a failed case shows
 * why in the check column instead of numbers.
 */
export function renderTable(rows: readonly CaseSummary[]): string {
  const cells = rows.map((row) => [
    row.benchCase.label,
    `${formatSize(row.benchCase.inputBytes)} ${row.benchCase.workload === 'sort' ? 'records' : 'text'}`,
    fixed(row.medianSeconds, 2),
    fixed(row.minSeconds, 2),
    fixed(row.megabytesPerSecond, 1),
    times(row.ratio.c),
    times(row.ratio.unix),
    fixed(row.peakRssBytes === undefined ? undefined : row.peakRssBytes / 2 ** 20, 0),
    row.failure === undefined ? shorten(row.check) : `FAILED: ${row.failure}`,
  ].map((cell) => cell.replaceAll('|', '\\|')));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    `| ${values.map((v, i) => (RIGHT_ALIGNED.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (RIGHT_ALIGNED.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(HEADER), rule, ...cells.map(line)].join('\n');
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '—' : value.toFixed(digits);
}

function times(ratio: number | undefined): string {
  return ratio === undefined ? '—' : `${ratio.toFixed(2)}×`;
}

/** Keeps mismatch details out of the table; they are logged, and listed under it in RESULTS.md. */
function shorten(check: string): string {
  return check.startsWith('MISMATCH') ? 'MISMATCH' : check;
}
