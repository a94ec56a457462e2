import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin', 'torpedo');
/** Sample texts in the repository (tests read nothing outside it). */
export const SEED_DIR = join(ROOT, 'examples', 'data');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `torpedo` command and collects its output. */
export function runCli(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`torpedo ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last line of stdout parsed as JSON (what `--json` prints). */
export function jsonSummary(r: CliResult): Record<string, any> {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as Record<string, any>;
}

export function tempDir(prefix = 'torpedo-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The part files of an output directory, in order. */
export function readParts(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-r-'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/**
 * A directory of inputs with the record-boundary cases that matter: the original samples, CRLF
 * lines, no final newline, multi-byte UTF-8 (incl. astral characters), an empty file, a line
 * much longer than small split sizes, empty lines, and a file in a subdirectory.
 */
export function makeEdgeInputs(dir: string): string {
  const input = join(dir, 'input');
  mkdirSync(join(input, 'sub'), { recursive: true });
  for (const f of readdirSync(SEED_DIR)) writeFileSync(join(input, f), readFileSync(join(SEED_DIR, f)));
  writeFileSync(join(input, 'prose.txt'), prose(400));
  writeFileSync(join(input, 'crlf.txt'), 'Hello World\r\nhello\r\n\r\nWORLD wide web\r\n');
  writeFileSync(join(input, 'no-final-newline.txt'), 'last line without newline\nand then THE end');
  writeFileSync(join(input, 'utf8.txt'), 'Café naïve ÉCOLE\n日本語 テキスト 😀 emoji 𝒳𝒴 \uE000private\n\u00e9t\u00e9 straße STRASSE\n');
  writeFileSync(join(input, 'empty.txt'), '');
  writeFileSync(join(input, 'long-line.txt'), `${'word '.repeat(5000)}\nshort after long\n${'x'.repeat(20000)}\n`);
  writeFileSync(join(input, 'sub', 'nested.txt'), '\n\n  spaced   out  \n\tTabbed\tline\n');
  writeFileSync(join(input, '_ignored.txt'), 'hidden by the underscore rule\n');
  return input;
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `lines` lines of English-like prose, the same every time: a few hundred words, capitals,
 * punctuation, typographic quotes and a few non-ASCII letters, so that word counts, greps and
 * sorts have something to find in every split.
 */
export function prose(lines: number): string {
  const words = ['the', 'world', 'World', 'end', 'café', 'naïve', 'river', 'Glorious', 'age', 'of', 'kary', 'and', 'a', '“quoted”', 'it’s', 'MapReduce', 'torpedo', 'shuffle,', 'sort.', 'reduce;'];
  let x = 12345;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const line: string[] = [];
    for (let j = 0; j < 4 + (i % 9); j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      line.push(words[x % words.length] as string);
    }
    if (i % 17 === 0) line.push('the', 'end');
    out.push(line.join(' '));
  }
  return `${out.join('\n')}\n`;
}
