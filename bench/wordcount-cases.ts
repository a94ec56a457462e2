import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import { SYSTEM_PYTHON } from './dask-setup.ts';
import { BENCH_DIR, OUT_DIR, REPO_DIR, shown } from './paths.ts';
import { caseFrom, THIS_CHECKOUT, TORPEDO_PARALLEL_FLAGS, torpedoBin, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts, readUniqCounts } from './word-counts.ts';
import type { WordcountOracle } from './wordcount-oracle.ts';

export interface WordcountInput {
  readonly file: string;
  readonly bytes: number;
  readonly oracle: WordcountOracle;
}

export interface WordcountBaselineTools {
  /** The compiled C word count, if it could be built. */
  readonly cBinary: string | undefined;
  /** Whether to run the Dask baseline (installed and not turned off). */
  readonly dask: boolean;
}

/**
 * The exact pipeline from the issue. LC_ALL=C is exported so every stage (tr, sort, uniq) works
 * on bytes; in a UTF-8 locale sort alone is several times slower.
 */
const UNIX_PIPELINE = `export LC_ALL=C; tr -cs "A-Za-z0-9_'" '\\n' < "$1" | tr A-Z a-z | sort | uniq -c > "$2"`;

/** What torpedo's word count is measured against: Unix tools, naive Node, tight C, Dask. */
export function wordcountBaselines(input: WordcountInput, tools: WordcountBaselineTools): BenchCase[] {
  const common = { workload: 'wordcount', inputFile: input.file, inputBytes: input.bytes, torpedo: false, throughput: true } as const;
  const cases: BenchCase[] = [];

  const unixOut = join(OUT_DIR, 'unix-wordcount.txt');
  cases.push({
    ...common,
    id: 'unix-wordcount',
    label: 'unix: tr, sort, uniq -c',
    ratioBase: 'unix',
    command: { argv: ['bash', '-c', UNIX_PIPELINE, 'unix-wordcount', input.file, unixOut] },
    // Run through bash with the paths as $1 and $2; shown as one would type it.
    shownCommand: UNIX_PIPELINE.replace('"$1"', shown(input.file)).replace('"$2"', shown(unixOut)),
    output: unixOut,
    // tr splits at every non-ASCII byte, so the expectation is the oracle's words cut at them.
    check: () => compareCounts(readUniqCounts(unixOut), input.oracle.byteLocaleCounts),
  });

  const nodeScript = join(BENCH_DIR, 'baselines', 'node-wordcount.mjs');
  const nodeOut = join(OUT_DIR, 'node-wordcount.tsv');
  cases.push({
    ...common,
    id: 'node-wordcount',
    label: 'node: single-thread script',
    command: { argv: [process.execPath, nodeScript, input.file, nodeOut] },
    shownCommand: `node ${shown(nodeScript)} ${shown(input.file)} ${shown(nodeOut)}`,
    output: nodeOut,
    check: () => compareCounts(readTsvCounts(nodeOut), input.oracle.counts),
  });

  if (tools.cBinary !== undefined) {
    const cOut = join(OUT_DIR, 'c-wordcount.tsv');
    cases.push({
      ...common,
      id: 'c-wordcount',
      label: 'C: single-thread (per-core limit)',
      ratioBase: 'c',
      command: { argv: [tools.cBinary, input.file], stdoutFile: cOut },
      shownCommand: `${shown(tools.cBinary)} ${shown(input.file)} > ${shown(cOut)}`,
      output: cOut,
      // C treats any byte >= 0x80 as a word byte and lower-cases ASCII only, which agrees with
      // the Unicode rule on the generated text (its non-ASCII characters are lower-case letters).
      check: () => compareCounts(readTsvCounts(cOut), input.oracle.counts),
    });
  }

  if (tools.dask) {
    const daskScript = join(BENCH_DIR, 'baselines', 'dask-wordcount.py');
    const daskOut = join(OUT_DIR, 'dask-wordcount.tsv');
    cases.push({
      ...common,
      id: 'dask-wordcount',
      label: 'dask.bag: 2 processes',
      command: { argv: [SYSTEM_PYTHON, daskScript, input.file, daskOut, '2'] },
      shownCommand: `${SYSTEM_PYTHON} ${shown(daskScript)} ${shown(input.file)} ${shown(daskOut)} 2`,
      output: daskOut,
      check: () => compareCounts(readTsvCounts(daskOut), input.oracle.counts),
    });
  }
  return cases;
}

/** torpedo's built-in word count and the same job written the obvious way by a user. */
export function torpedoWordcountCases(input: WordcountInput, checkout = THIS_CHECKOUT): BenchCase[] {
  const common = { workload: 'wordcount', inputFile: input.file, inputBytes: input.bytes, torpedo: true, throughput: true } as const;
  const jobs = [
    { id: 'torpedo-wordcount', label: 'torpedo: built-in wordcount', job: 'wordcount' },
    { id: 'torpedo-obvious-wordcount', label: 'torpedo: obvious user job', job: 'bench/jobs/obvious-wordcount.mjs' },
  ] as const;
  return jobs.map(({ id, label, job }) => {
    const name = caseFrom(checkout, id, label);
    const output = join(OUT_DIR, name.id);
    const run = torpedoRun(job, input.file, output, TORPEDO_PARALLEL_FLAGS, checkout);
    return { ...common, ...name, ...run, output, check: () => compareCounts(readTsvCounts(output), input.oracle.counts) };
  });
}

/** The same word count as a streaming job: the Python mapper and reducer of examples/streaming/. */
export function torpedoStreamingCase(input: WordcountInput, checkout = THIS_CHECKOUT): BenchCase {
  const name = caseFrom(checkout, 'torpedo-streaming-python', 'torpedo: streaming, Python mapper/reducer');
  const output = join(OUT_DIR, name.id);
  const dir = join(REPO_DIR, 'examples', 'streaming');
  // No --combiner: on this input the Python pass over each map task's sorted pairs costs more
  // than it saves the reducers (measured: 10 MB, 1 worker, 5.5 s with it, 3.7 s without).
  const streaming = ['--mapper', 'python3 mapper.py', '--reducer', 'python3 reducer.py', '--file', join(dir, 'mapper.py'), '--file', join(dir, 'reducer.py')];
  const tail = ['--input', input.file, '--output', output, ...TORPEDO_PARALLEL_FLAGS, '--force', '--json'];
  const bin = torpedoBin(checkout);
  return {
    workload: 'wordcount',
    inputFile: input.file,
    inputBytes: input.bytes,
    torpedo: true,
    throughput: true,
    ...name,
    command: { argv: [process.execPath, bin.path, 'run', ...streaming, ...tail], cwd: REPO_DIR },
    shownCommand: `node ${bin.shown} run --mapper 'python3 mapper.py' --reducer 'python3 reducer.py' --file examples/streaming/mapper.py --file examples/streaming/reducer.py ${tail.map((a) => (a === input.file || a === output ? shown(a) : a)).join(' ')}`,
    output,
    check: () => compareCounts(readTsvCounts(output), input.oracle.counts),
  };
}
