import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import type { Log } from './log.ts';
import { BENCH_DIR, DATA_DIR, OUT_DIR, shown } from './paths.ts';
import { Prng } from './prng.ts';
import { TORPEDO_PARALLEL_FLAGS, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts } from './word-counts.ts';
import type { WordcountInput } from './wordcount-cases.ts';

/** The small-files case: this many files of about this size, cut from the bench's text at lines. */
export const SMALL_FILES = 20_000;
export const SMALL_FILE_BYTES = 2000;

/**
 * A directory of SMALL_FILES files of about SMALL_FILE_BYTES each (in 100 subdirectories), the
 * text of `input` cut at line ends: its word counts are the text's. Made once, renamed into place.
 */
export function ensureSmallFiles(text: string, log: Log): string {
  const dir = join(DATA_DIR, `small-files-${SMALL_FILES}x${SMALL_FILE_BYTES}`);
  if (existsSync(dir)) return dir;
  log(`cutting ${shown(text)} into ${SMALL_FILES} files …`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const fd = openSync(text, 'r');
  const size = statSync(text).size;
  const buf = Buffer.alloc(SMALL_FILE_BYTES * 4);
  let pos = 0;
  try {
    for (let i = 0; i < SMALL_FILES && pos < size; i++) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      // The last file takes the rest.
      let end = i === SMALL_FILES - 1 ? got : buf.indexOf(10, Math.min(SMALL_FILE_BYTES, got - 1)) + 1 || got;
      if (i === SMALL_FILES - 1) {
        end = size - pos;
      }
      const sub = join(tmp, `d${String(i % 100).padStart(2, '0')}`);
      if (i < 100) mkdirSync(sub, { recursive: true });
      const out = openSync(join(sub, `f${String(i).padStart(5, '0')}.txt`), 'w');
      if (i === SMALL_FILES - 1) {
        for (let p = pos; p < size; ) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - p), p);
          writeSync(out, buf, 0, n);
          p += n;
        }
      } else writeSync(out, buf, 0, end);
      closeSync(out);
      pos += end;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, dir);
  return dir;
}

/** torpedo's word count over the small files; the C word count over `cat` of them is the base. */
export function smallFilesCases(input: WordcountInput, dir: string, cBinary: string | undefined): BenchCase[] {
  const common = { workload: 'wordcount-small', inputFile: dir, inputBytes: input.bytes, throughput: true } as const;
  const cases: BenchCase[] = [];
  if (cBinary !== undefined) {
    const out = join(OUT_DIR, 'cat-small-c-wordcount.tsv');
    const script = 'find "$2" -type f -name "*.txt" -print0 | sort -z | xargs -0 cat | "$1" /dev/stdin';
    cases.push({
      ...common,
      id: 'cat-small-c-wordcount',
      label: `cat ${SMALL_FILES} files | C word count`,
      ratioBase: 'c',
      torpedo: false,
      command: { argv: ['bash', '-c', script, 'small', cBinary, dir], stdoutFile: out },
      shownCommand: `find ${shown(dir)} -type f -print0 | sort -z | xargs -0 cat | ${shown(cBinary)} /dev/stdin > ${shown(out)}`,
      output: out,
      check: () => compareCounts(readTsvCounts(out), input.oracle.counts),
    });
  }
  const output = join(OUT_DIR, 'torpedo-wordcount-small');
  cases.push({
    ...common,
    id: 'torpedo-wordcount-small',
    label: `torpedo: built-in wordcount (${SMALL_FILES} files)`,
    torpedo: true,
    ...torpedoRun('wordcount', dir, output, TORPEDO_PARALLEL_FLAGS),
    output,
    check: () => compareCounts(readTsvCounts(output), input.oracle.counts),
  });
  return cases;
}

/** A JSON lines file of about `bytes`: `{"user":"u123","amount":45,"item":"…","ok":true}` per line. */
export function ensureJsonLines(bytes: number, seed: number, log: Log): { file: string; bytes: number } {
  const file = join(DATA_DIR, `events-v1-${bytes}b-seed${seed}.jsonl`);
  if (existsSync(file)) return { file, bytes: statSync(file).size };
  log(`generating ${shown(file)} …`);
  const rand = new Prng(seed);
  const items = ['book', 'lamp', 'café table', 'pen "gel"', 'rope', 'naïve art', 'chair', 'kettle'];
  const fd = openSync(`${file}.tmp`, 'w');
  let written = 0;
  try {
    while (written < bytes) {
      const lines: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        lines.push(JSON.stringify({ user: `u${rand.nextInt(5000)}`, amount: rand.nextInt(10_000), item: items[rand.nextInt(items.length)], ok: rand.nextFloat() < 0.9 }));
      }
      const chunk = Buffer.from(`${lines.join('\n')}\n`);
      writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
  return { file, bytes: written };
}

/** torpedo summing a field of JSON lines, and the single-threaded Node script (the base). */
export function jsonlCases(input: { file: string; bytes: number }): BenchCase[] {
  const common = { workload: 'jsonl-sum', inputFile: input.file, inputBytes: input.bytes, throughput: true } as const;
  const script = join(BENCH_DIR, 'baselines', 'node-jsonl-sum.mjs');
  const nodeOut = join(OUT_DIR, 'node-jsonl-sum.tsv');
  const output = join(OUT_DIR, 'torpedo-jsonl-sum');
  return [
    {
      ...common,
      id: 'node-jsonl-sum',
      label: 'node: readline + JSON.parse, one thread',
      ratioBase: 'c',
      torpedo: false,
      command: { argv: [process.execPath, script, input.file, nodeOut] },
      shownCommand: `node ${shown(script)} ${shown(input.file)} ${shown(nodeOut)}`,
      output: nodeOut,
      check: () => 'ok',
    },
    {
      ...common,
      id: 'torpedo-jsonl-sum',
      label: 'torpedo: bench/jobs/sum-amounts.mjs on jsonl',
      torpedo: true,
      ...torpedoRun('bench/jobs/sum-amounts.mjs', input.file, output, TORPEDO_PARALLEL_FLAGS),
      output,
      // The same sums as the Node script's, user by user.
      check: () => {
        const mine = readTsvCounts(output);
        const theirs = readTsvCounts(nodeOut);
        return 'counts' in theirs ? compareCounts(mine, theirs.counts) : `MISMATCH: the Node baseline's output: ${theirs.error}`;
      },
    },
  ];
}
