import type { BenchCase } from './bench-case.ts';
import type { BenchOptions } from './bench-options.ts';
import { buildCWordcount } from './c-wordcount-build.ts';
import { logTail, runCaseOnce, type RunResult } from './case-runner.ts';
import { summarize } from './case-summary.ts';
import { ensureDask } from './dask-setup.ts';
import { ensureRecordsFile, ensureTextFile } from './data-cache.ts';
import { logToStderr } from './log.ts';
import { buildBundle, checkoutCommit, describeSides, renderCompareTable, type RepoComparison } from './compare-repo.ts';
import { compressedCases, ensureCompressedInputs } from './compressed-cases.ts';
import { ensureJsonLines, ensureSmallFiles, jsonlCases, SMALL_FILE_BYTES, SMALL_FILES, smallFilesCases } from './structured-cases.ts';
import { collectMachineInfo } from './machine-info.ts';
import { warmPageCache } from './page-cache.ts';
import { REPO_DIR, shown } from './paths.ts';
import { writeResultsFile } from './results-file.ts';
import { renderTable } from './results-table.ts';
import { pairedCost } from './paired-cost.ts';
import { renderConfinementTable, unconfinedCases } from './sandbox-cases.ts';
import { sortBaseline, torpedoSortCase } from './sort-cases.ts';
import { ensureSortReference } from './sort-reference.ts';
import { TINY_INPUT_BYTES, torpedoTinyCase } from './tiny-case.ts';
import { THIS_CHECKOUT, type TorpedoCheckout } from './torpedo-command.ts';
import { torpedoStreamingCase, torpedoWordcountCases, wordcountBaselines, type WordcountInput } from './wordcount-cases.ts';
import { WordcountOracle } from './wordcount-oracle.ts';

const log = logToStderr;

/**
 * Prepares inputs, references and tools for the selected cases, runs every case `runs` times
 * (interleaved), prints the table and writes RESULTS.md. Returns the process exit code:
 * 1 if any case failed or produced a wrong output.
 */
export async function runBench(options: BenchOptions): Promise<number> {
  const started = new Date();
  const { only, sizeBytes, seed } = options;
  // "baselines" means the baselines of the selected workloads (wordcount, sort), or of both
  // when neither is selected: --only sort,baselines should not spend minutes on word counts.
  const workloadChosen = only.has('wordcount') || only.has('sort');
  const baselinesFor = (workload: 'wordcount' | 'sort'): boolean => only.has('baselines') && (!workloadChosen || only.has(workload));

  // With --compare-repo, every torpedo case below is followed by its twin from that checkout.
  const sides = options.compareRepo === undefined ? undefined : { dir: options.compareRepo, here: checkoutCommit(REPO_DIR), there: checkoutCommit(options.compareRepo) };
  const compared: TorpedoCheckout | undefined = sides === undefined ? undefined : { dir: sides.dir, comparedAt: sides.there.commit };
  const fromEach = (build: (checkout: TorpedoCheckout) => readonly BenchCase[]): BenchCase[] => sideBySide(build, compared);

  const cases: BenchCase[] = [];
  let daskVersion: string | undefined;
  const sandbox = only.has('sandbox');
  if (only.has('wordcount') || only.has('streaming') || baselinesFor('wordcount') || sandbox) {
    const input = await wordcountInput(sizeBytes, seed);
    if (baselinesFor('wordcount')) {
      daskVersion = options.dask ? ensureDask(log) : undefined;
      cases.push(...wordcountBaselines(input, { cBinary: buildCWordcount(log), dask: daskVersion !== undefined }));
    }
    if (only.has('wordcount')) cases.push(...fromEach((k) => torpedoWordcountCases(input, k)));
    else if (sandbox) cases.push(...fromEach((k) => torpedoWordcountCases(input, k)).filter((c) => (c.twinOf?.id ?? c.id) === 'torpedo-wordcount'));
    if (only.has('streaming')) cases.push(...fromEach((k) => [torpedoStreamingCase(input, k)]));
  }
  if (only.has('compressed')) {
    // Word counts of the same text as 8 gzip files and one bzip2 file, with their own baselines.
    const input = await wordcountInput(sizeBytes, seed);
    const compressed = ensureCompressedInputs(input.file, log);
    for (const f of [...compressed.gzipFiles, compressed.bzip2File]) warmPageCache(f);
    cases.push(...compressedCases(input, compressed, buildCWordcount(log)));
  }
  if (only.has('smallfiles')) {
    const input = await wordcountInput(SMALL_FILES * SMALL_FILE_BYTES, seed);
    const dir = ensureSmallFiles(input.file, log);
    cases.push(...smallFilesCases(input, dir, buildCWordcount(log)));
  }
  if (only.has('jsonl')) {
    const input = ensureJsonLines(sizeBytes, seed, log);
    warmPageCache(input.file);
    cases.push(...jsonlCases(input));
  }
  if (only.has('sort') || baselinesFor('sort')) {
    const { file, bytes } = ensureRecordsFile(sizeBytes, seed, log);
    const sortInput = { file, bytes, reference: await ensureSortReference(file, log) };
    warmPageCache(file);
    if (baselinesFor('sort')) cases.push(sortBaseline(sortInput));
    if (only.has('sort')) cases.push(...fromEach((k) => [torpedoSortCase(sortInput, k)]));
  }
  if (only.has('tiny') || sandbox) {
    const tiny = await wordcountInput(TINY_INPUT_BYTES, seed);
    cases.push(...fromEach((k) => [torpedoTinyCase(tiny, k)]));
    // Twins of the confined word count and tiny job, without the sandbox, interleaved with them.
    if (sandbox) cases.push(...unconfinedCases(await wordcountInput(sizeBytes, seed), tiny));
  }

  if (sides !== undefined && compared !== undefined) {
    log(describeSides(sides));
    // So that neither side's first run includes building its bundle.
    for (const checkout of [THIS_CHECKOUT, compared]) {
      const failure = buildBundle(checkout);
      if (failure !== undefined) log(`cannot prepare ${checkout.dir}'s bin/torpedo (its runs will fail): ${failure}`);
    }
  }

  const runs = new Map<BenchCase, RunResult[]>(cases.map((c) => [c, []]));
  const failures = new Map<BenchCase, string>();
  // Interleaved (every case once, then again) rather than case by case, so a noisy minute on
  // this shared machine spreads over all cases instead of sinking one.
  for (let run = 1; run <= options.runs; run++) {
    for (const benchCase of cases) {
      if (failures.has(benchCase)) continue;
      const prefix = `run ${run}/${options.runs} ${benchCase.label}`;
      log(`${prefix} …`);
      const result = await runCaseOnce(benchCase, run, options.timeoutMs);
      if ('failure' in result) {
        failures.set(benchCase, result.failure);
        log(`${prefix}: FAILED (${result.failure}); log ${shown(result.logFile)}:\n${indent(logTail(result.logFile))}`);
        continue;
      }
      runs.get(benchCase)?.push(result);
      log(`${prefix}: ${describe(benchCase, result)}`);
    }
  }

  const outcomes = cases.map((c) => ({ benchCase: c, runs: runs.get(c) ?? [], failure: failures.get(c) }));
  const summaries = summarize(outcomes);
  const confinement = pairedCost(outcomes, 'unconfined');
  const comparison: RepoComparison | undefined = sides === undefined ? undefined : { ...sides, rows: pairedCost(outcomes, 'compare-repo') };
  process.stdout.write(`${renderTable(summaries)}\n`);
  if (confinement.length > 0) process.stdout.write(`\nWhat the confinement of user code costs (pairs of runs side by side):\n\n${renderConfinementTable(confinement)}\n`);
  if (comparison !== undefined) {
    process.stdout.write(`\nThis code against ${comparison.dir} (pairs of runs side by side):\n${describeSides(comparison)}\n\n${renderCompareTable(comparison.rows)}\n`);
  }
  writeResultsFile(options.resultsFile, { started, options, machine: collectMachineInfo(daskVersion), summaries, confinement, comparison });
  log(`wrote ${shown(options.resultsFile)}`);
  const bad = summaries.filter((s) => s.failure !== undefined || s.check.startsWith('MISMATCH'));
  return bad.length > 0 ? 1 : 0;
}

/**
 * The cases `build` makes from this checkout, each followed by its twin from `compared` (if
 * given), so that the two run back to back in every round.
 */
function sideBySide(build: (checkout: TorpedoCheckout) => readonly BenchCase[], compared: TorpedoCheckout | undefined): BenchCase[] {
  const here = build(THIS_CHECKOUT);
  if (compared === undefined) return [...here];
  const there = build(compared);
  return here.flatMap((c) => [c, ...there.filter((t) => t.twinOf?.id === c.id)]);
}

async function wordcountInput(bytes: number, seed: number): Promise<WordcountInput> {
  const { file } = ensureTextFile(bytes, seed, log);
  const oracle = await WordcountOracle.forInput(file, log);
  warmPageCache(file);
  return { file, bytes, oracle };
}

function describe(benchCase: BenchCase, result: RunResult): string {
  const seconds = result.wallMs / 1000;
  const parts = [`${seconds.toFixed(2)} s`];
  if (benchCase.throughput) parts.push(`${(benchCase.inputBytes / 1e6 / seconds).toFixed(1)} MB/s`);
  if (result.reportedWallMs !== undefined) parts.push(`torpedo says ${(result.reportedWallMs / 1000).toFixed(2)} s`);
  if (result.peakRssBytes !== undefined) parts.push(`peak RSS ${Math.round(result.peakRssBytes / 2 ** 20)} MB`);
  parts.push(result.check);
  return parts.join(', ');
}

function indent(text: string): string {
  return text === '' ? '    (no output)' : text.replace(/^/gm, '    ');
}
