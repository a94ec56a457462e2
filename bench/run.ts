/**
 * The benchmark suite: `npm run bench -- [--size 1GB] [--runs 3] [--only wordcount,sort,tiny,baselines] [--no-dask] [--compare-repo DIR]`.
 * Prints a markdown table on stdout, progress on stderr, and writes bench/RESULTS.md.
 */
import { parseBenchOptions } from './bench-options.ts';
import { runBench } from './run-bench.ts';

process.exitCode = await runBench(parseBenchOptions(process.argv.slice(2)));
