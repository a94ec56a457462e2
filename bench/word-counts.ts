import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Word → count, as read from one engine's output. */
export type WordCounts = ReadonlyMap<string, number>;

/** The result of reading an output: counts, or why it could not be read. */
export type CountsOrError = { readonly counts: WordCounts } | { readonly error: string };

/**
 * Reads `word<TAB>count` lines from a file, or from every part-r-* file of an output directory.
 * A word seen twice is an error: each word must be counted by exactly one reducer.
 */
export function readTsvCounts(path: string): CountsOrError {
  const files = statSync(path).isDirectory() ? partFiles(path) : [path];
  const counts = new Map<string, number>();
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      const tab = line.lastIndexOf('\t');
      const count = Number(line.slice(tab + 1));
      if (tab < 0 || !Number.isInteger(count)) return { error: `bad line ${JSON.stringify(line.slice(0, 60))}` };
      const word = line.slice(0, tab);
      if (counts.has(word)) return { error: `word ${JSON.stringify(word)} appears twice` };
      counts.set(word, count);
    }
  }
  return { counts };
}

/** Reads `uniq -c` output: right-aligned count, a space, the word. */
export function readUniqCounts(path: string): CountsOrError {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    if (line === '') continue;
    const match = /^ *(\d+) (.*)$/s.exec(line);
    if (!match) return { error: `bad line ${JSON.stringify(line.slice(0, 60))}` };
    // tr turns a leading separator into an empty first line; it is not a word.
    if (match[2] === '') continue;
    counts.set(match[2] ?? '', Number(match[1]));
  }
  return { counts };
}

/**
 * What the LC_ALL=C `tr` pipeline should print for a text whose Unicode word counts are
 * `unicode`: in the C locale every non-ASCII byte is a separator, so each word falls apart into
 * its ASCII runs (ASCII-only, so they read the same whether decoded as UTF-8 or latin1). Exact
 * for the generated text, whose non-ASCII letters are all lower case (tr only lower-cases A-Z).
 */
export function byteLocaleCounts(unicode: WordCounts): WordCounts {
  const counts = new Map<string, number>();
  for (const [word, count] of unicode) {
    for (const piece of word.split(/[^A-Za-z0-9_']+/)) {
      if (piece !== '') counts.set(piece, (counts.get(piece) ?? 0) + count);
    }
  }
  return counts;
}

/** "ok", or a short description of the first differences. */
export function compareCounts(actual: CountsOrError, expected: WordCounts): string {
  if ('error' in actual) return `MISMATCH: ${actual.error}`;
  const differences: string[] = [];
  let differing = 0;
  for (const [word, count] of expected) {
    const got = actual.counts.get(word);
    if (got === count) continue;
    differing++;
    if (differences.length < 3) differences.push(`${JSON.stringify(word)} ${got ?? 'missing'} ≠ ${count}`);
  }
  for (const [word, got] of actual.counts) {
    if (expected.has(word)) continue;
    differing++;
    if (differences.length < 3) differences.push(`${JSON.stringify(word)} ${got} unexpected`);
  }
  return differing === 0 ? 'ok' : `MISMATCH: ${differing} words differ (${differences.join('; ')})`;
}

/** part-r-* files of an output directory, in partition order. */
export function partFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^part-r-\d+/.test(name))
    .sort((a, b) => partNumber(a) - partNumber(b) || a.localeCompare(b))
    .map((name) => join(dir, name));
}

function partNumber(name: string): number {
  return Number(/^part-r-(\d+)/.exec(name)?.[1] ?? 0);
}
