import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RssSampler } from './rss-sampler.ts';

/** One command line to time. */
export interface CommandSpec {
  /** Program and arguments, spawned without a shell (use `bash -c` explicitly for pipelines). */
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** Added to the bench's own environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Send stdout to this file; otherwise it is captured (its last megabyte) into CommandRun.stdout. */
  readonly stdoutFile?: string;
}

export interface CommandRun {
  /** From just before spawn to the exit of the top process. */
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  /** Peak RSS of the largest single process in the tree, sampled from /proc. */
  readonly sampledPeakRssBytes: number | undefined;
}

export interface TimeOptions {
  /** The command's stderr goes here, so progress bars do not garble the bench's own output. */
  readonly stderrFile: string;
  readonly timeoutMs: number;
}

const STDOUT_KEEP_BYTES = 1 << 20;
/** Process groups still running, killed if the bench itself is interrupted. */
const liveGroups = new Set<number>();
let interruptHandlerInstalled = false;

/** Runs one command to completion and measures its wall time and peak RSS. */
export function timeCommand(spec: CommandSpec, options: TimeOptions): Promise<CommandRun> {
  installInterruptHandler();
  const [program, ...args] = spec.argv;
  if (program === undefined) throw new Error('timeCommand: empty argv');
  const stderrFd = openSync(options.stderrFile, 'w');
  const stdoutFd = spec.stdoutFile === undefined ? undefined : openSync(spec.stdoutFile, 'w');
  const started = performance.now();
  // detached: its own process group, so a timeout kills the whole tree (pipeline stages,
  // torpedo workers, dask processes), not just the top process.
  const child = spawn(program, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', stdoutFd ?? 'pipe', stderrFd],
    detached: true,
  });
  closeSync(stderrFd);
  if (stdoutFd !== undefined) closeSync(stdoutFd);

  const pid = child.pid;
  const sampler = pid === undefined ? undefined : new RssSampler(pid);
  if (pid !== undefined) liveGroups.add(pid);
  sampler?.start();

  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.length > 2 * STDOUT_KEEP_BYTES) stdout = stdout.slice(-STDOUT_KEEP_BYTES);
  });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (pid !== undefined) killGroup(pid);
  }, options.timeoutMs);

  return new Promise((resolve, reject) => {
    let wallMs = 0;
    child.on('error', (err) => {
      clearTimeout(timer);
      sampler?.stop();
      if (pid !== undefined) liveGroups.delete(pid);
      reject(new Error(`cannot run ${program}: ${err.message}`));
    });
    child.on('exit', () => {
      wallMs = performance.now() - started;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const sampledPeakRssBytes = sampler?.stop();
      if (pid !== undefined) {
        liveGroups.delete(pid);
        // A stray grandchild (a leaked worker) must not keep running into the next case.
        killGroup(pid);
      }
      resolve({ wallMs, exitCode, signal, timedOut, stdout: stdout.slice(-STDOUT_KEEP_BYTES), sampledPeakRssBytes });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

function installInterruptHandler(): void {
  if (interruptHandlerInstalled) return;
  interruptHandlerInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      for (const pid of liveGroups) killGroup(pid);
      process.exit(130);
    });
  }
}

/** The median; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? 0) + upper) / 2;
}

export function minimum(values: readonly number[]): number {
  if (values.length === 0) throw new Error('minimum of nothing');
  return Math.min(...values);
}
