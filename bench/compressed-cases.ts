import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import type { Log } from './log.ts';
import { DATA_DIR, OUT_DIR, shown } from './paths.ts';
import { TORPEDO_PARALLEL_FLAGS, torpedoRun } from './torpedo-command.ts';
import { compareCounts, readTsvCounts } from './word-counts.ts';
import type { WordcountInput } from './wordcount-cases.ts';

/** The bench's text, compressed as users' data arrives: 8 gzip files, and one bzip2 file. */
export interface CompressedInputs {
  /** A directory of 8 `.gz` files, the text cut at lines into 8 pieces. */
  readonly gzipDir: string;
  readonly gzipFiles: readonly string[];
  readonly bzip2File: string;
}

const PIECES = 8;

/**
 * The compressed copies of the bench's text, made with the gzip and bzip2 tools (default levels)
 * when missing: about a minute each for 1 GB. Written under a temporary name and renamed, so a
 * copy that exists is complete.
 */
export function ensureCompressedInputs(text: string, log: Log): CompressedInputs {
  const base = basename(text).replace(/\.txt$/, '');
  const gzipDir = join(DATA_DIR, `${base}.gz-${PIECES}`);
  const gzipFiles = Array.from({ length: PIECES }, (_, i) => join(gzipDir, `part-${i}.txt.gz`));
  if (!existsSync(gzipDir)) {
    log(`compressing ${shown(text)} into ${PIECES} gzip files …`);
    const tmp = `${gzipDir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    cutAtLines(text, PIECES).forEach((piece, i) => {
      const raw = join(tmp, `part-${i}.txt`);
      copyRange(text, raw, piece.start, piece.end);
      execFileSync('gzip', ['-n', raw]);
    });
    renameSync(tmp, gzipDir);
  }
  const bzip2File = join(DATA_DIR, `${base}.txt.bz2`);
  if (!existsSync(bzip2File)) {
    log(`compressing ${shown(text)} with bzip2 …`);
    execFileSync('bash', ['-c', 'bzip2 -c "$1" > "$2.tmp" && mv "$2.tmp" "$2"', 'bzip2', text, bzip2File]);
  }
  return { gzipDir, gzipFiles, bzip2File };
}

/** `n` byte ranges of a file, each ending at a line's end (the last at the file's). */
function cutAtLines(file: string, n: number): { start: number; end: number }[] {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 16);
  const ranges: { start: number; end: number }[] = [];
  let start = 0;
  try {
    for (let i = 1; i <= n; i++) {
      let end = i === n ? size : Math.floor((size * i) / n);
      for (; end < size; end += buf.length) {
        const got = readSync(fd, buf, 0, buf.length, end);
        const nl = buf.subarray(0, got).indexOf(10);
        if (nl !== -1) {
          end += nl + 1;
          break;
        }
      }
      ranges.push({ start, end: Math.min(end, size) });
      start = Math.min(end, size);
    }
  } finally {
    closeSync(fd);
  }
  return ranges;
}

function copyRange(from: string, to: string, start: number, end: number): void {
  const src = openSync(from, 'r');
  const dst = openSync(to, 'w');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let pos = start; pos < end; ) {
      const got = readSync(src, buf, 0, Math.min(buf.length, end - pos), pos);
      writeSync(dst, buf, 0, got);
      pos += got;
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/**
 * Word counts of compressed text: torpedo reading the 8 gzip files and the bzip2 file, against the
 * bench's C word count reading what `zcat` and `bzcat` decompress (two processes, so on 2 cores the
 * decompressor has a core to itself). The pipelines are the ratio base (the "× C" column) of their
 * workloads.
 */
export function compressedCases(input: WordcountInput, compressed: CompressedInputs, cBinary: string | undefined): BenchCase[] {
  const cases: BenchCase[] = [];
  const inputs = [
    { workload: 'wordcount-gz', id: 'gz', what: `${PIECES} gzip files`, tool: 'zcat', files: compressed.gzipFiles, torpedoInput: compressed.gzipDir },
    { workload: 'wordcount-bz2', id: 'bz2', what: 'one bzip2 file', tool: 'bzcat', files: [compressed.bzip2File], torpedoInput: compressed.bzip2File },
  ] as const;
  for (const c of inputs) {
    const common = { workload: c.workload, inputFile: c.torpedoInput, inputBytes: input.bytes, throughput: true } as const;
    if (cBinary !== undefined) {
      const out = join(OUT_DIR, `${c.tool}-c-wordcount.tsv`);
      const script = `${c.tool} "\${@:2}" | "$1" /dev/stdin`;
      cases.push({
        ...common,
        id: `${c.tool}-c-wordcount`,
        label: `${c.tool} | C word count (${c.what})`,
        ratioBase: 'c',
        torpedo: false,
        command: { argv: ['bash', '-c', script, c.tool, cBinary, ...c.files], stdoutFile: out },
        shownCommand: `${c.tool} ${c.files.length > 1 ? `${shown(join(compressed.gzipDir, '*.gz'))}` : shown(c.files[0]!)} | ${shown(cBinary)} /dev/stdin > ${shown(out)}`,
        output: out,
        check: () => compareCounts(readTsvCounts(out), input.oracle.counts),
      });
    }
    const output = join(OUT_DIR, `torpedo-wordcount-${c.id}`);
    cases.push({
      ...common,
      id: `torpedo-wordcount-${c.id}`,
      label: `torpedo: built-in wordcount (${c.what})`,
      torpedo: true,
      ...torpedoRun('wordcount', c.torpedoInput, output, TORPEDO_PARALLEL_FLAGS),
      output,
      check: () => compareCounts(readTsvCounts(output), input.oracle.counts),
    });
  }
  return cases;
}
