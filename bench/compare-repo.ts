import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { formatRatio, type PairedCost } from './paired-cost.ts';
import { REPO_DIR } from './paths.ts';
import { torpedoBin, type TorpedoCheckout } from './torpedo-command.ts';

/**
 * What keeps `dir` from serving as `--compare-repo`, or undefined if nothing does.
 *
 * Its node_modules must be a directory of its own, not a link to this checkout's: bin/torpedo
 * keeps the bundle it runs in node_modules/.cache/torpedo, rebuilt when src/ is newer, and the
 * bundle finds torpedo's root from where it really lies. Through a shared node_modules both
 * checkouts would run whichever src/ was bundled last (and this one's workers), and the table
 * would compare a checkout with itself.
 */
export function compareRepoProblem(dir: string): string | undefined {
  if (!existsSync(join(dir, 'bin', 'torpedo'))) return `--compare-repo ${dir}: no bin/torpedo there (a checkout of torpedo is needed)`;
  if (realpathSync(dir) === realpathSync(REPO_DIR)) return `--compare-repo ${dir} is this checkout`;
  const modules = join(dir, 'node_modules');
  const cache = join(modules, '.cache');
  const ownModules = `\`(cd ${dir} && npm ci)\`, or hard links to this one's without its cache: \`cp -al ${join(REPO_DIR, 'node_modules')} ${modules} && rm -rf ${cache}\``;
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    // The link goes first: cp -al onto it would copy into the directory it leads to.
    return `--compare-repo ${dir}: ${modules} is a link (to ${realpathSync(modules)}); bin/torpedo keeps its bundle there, so both checkouts would run the same code. Give it a node_modules of its own: \`rm ${modules}\`, then ${ownModules}`;
  }
  if (!existsSync(modules)) return `--compare-repo ${dir} has no node_modules: give it one of its own: ${ownModules}`;
  if (existsSync(cache) && lstatSync(cache).isSymbolicLink()) {
    return `--compare-repo ${dir}: ${cache} is a link (to ${realpathSync(cache)}); bin/torpedo keeps its bundle there, so both checkouts would run the same code: \`rm ${cache}\``;
  }
  return undefined;
}

/** Where a checkout's code is: what `git -C DIR rev-parse --short HEAD` says, and whether it has uncommitted changes. */
export interface CheckoutCommit {
  readonly commit: string;
  /** Changes to tracked or new files outside bench/ (which holds nothing bin/torpedo runs). */
  readonly changed: boolean;
}

export function checkoutCommit(dir: string): CheckoutCommit {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const changes = git('status', '--porcelain', '--', '.', ':(exclude)bench');
  return { commit: git('rev-parse', '--short', 'HEAD') ?? 'unknown', changed: changes !== undefined && changes !== '' };
}

export function describeCommit({ commit, changed }: CheckoutCommit): string {
  return changed ? `${commit} with uncommitted changes outside bench/` : commit;
}

/** What `--compare-repo` measured, for stdout and RESULTS.md. */
export interface RepoComparison {
  readonly dir: string;
  readonly here: CheckoutCommit;
  readonly there: CheckoutCommit;
  readonly rows: readonly PairedCost[];
}

/** The line saying which code each side ran. */
export function describeSides(c: Omit<RepoComparison, 'rows'>): string {
  return `here: ${REPO_DIR} at ${describeCommit(c.here)}; there: ${c.dir} at ${describeCommit(c.there)}`;
}

/**
 * Runs a checkout's bin/torpedo once (`--help`), outside the timing: it bundles src/ (and
 * compiles the kernels) when they are newer than its bundle, which would otherwise land in the
 * first timed run. Returns an error message if it fails.
 */
export function buildBundle(checkout: TorpedoCheckout): string | undefined {
  const r = spawnSync(process.execPath, [torpedoBin(checkout).path, '--help'], { cwd: REPO_DIR, encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `${torpedoBin(checkout).path} --help: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}\n${r.stderr.trimEnd()}`;
}

/** This checkout's cases against their twins from `--compare-repo`: `pairedCost(outcomes, 'compare-repo')`. */
export function renderCompareTable(rows: readonly PairedCost[]): string {
  const lines = [
    '| case | runs | here median s | there median s | here − there (median of pairs) | here / there (median of pairs) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.label} | ${r.pairs} | ${r.caseSeconds.toFixed(2)} | ${r.twinSeconds.toFixed(2)} | ${r.differenceMs.toFixed(0)} ms | ${formatRatio(r.ratio)} |`);
  }
  return lines.join('\n');
}
