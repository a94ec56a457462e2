import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import { OUT_DIR, shown } from './paths.ts';
import { compareSorted } from './sort-check.ts';
import { SORT_ARGV, SORT_ENV } from './sort-reference.ts';
import { caseFrom, THIS_CHECKOUT, TORPEDO_PARALLEL_FLAGS, torpedoRun } from './torpedo-command.ts';

export interface SortInput {
  readonly file: string;
  readonly bytes: number;
  /** The cached byte-ordered sort every output must equal. */
  readonly reference: string;
}

/** GNU sort with the same two cores and a bounded buffer, so it spills like an engine would. */
export function sortBaseline(input: SortInput): BenchCase {
  const output = join(OUT_DIR, 'unix-sort.txt');
  return {
    id: 'unix-sort',
    label: 'unix: sort -S 256M --parallel=2',
    workload: 'sort',
    inputFile: input.file,
    inputBytes: input.bytes,
    ratioBase: 'unix',
    torpedo: false,
    throughput: true,
    command: { argv: [...SORT_ARGV, input.file], env: SORT_ENV, stdoutFile: output },
    shownCommand: `LC_ALL=C ${SORT_ARGV.join(' ')} ${shown(input.file)} > ${shown(output)}`,
    output,
    check: () => compareSorted(output, input.reference),
  };
}

/** torpedo's built-in sort: its part-r-* files, concatenated in order, must equal sort's output. */
export function torpedoSortCase(input: SortInput, checkout = THIS_CHECKOUT): BenchCase {
  const name = caseFrom(checkout, 'torpedo-sort', 'torpedo: built-in sort');
  const output = join(OUT_DIR, name.id);
  return {
    ...name,
    workload: 'sort',
    inputFile: input.file,
    inputBytes: input.bytes,
    torpedo: true,
    throughput: true,
    ...torpedoRun('sort', input.file, output, TORPEDO_PARALLEL_FLAGS, checkout),
    output,
    check: () => compareSorted(output, input.reference),
  };
}
