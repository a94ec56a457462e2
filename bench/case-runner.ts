import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCase } from './bench-case.ts';
import { timeCommand } from './measure.ts';
import { LOG_DIR, OUT_DIR } from './paths.ts';
import { parseTorpedoReport } from './torpedo-report.ts';

/** One successful, timed run of a case. */
export interface RunResult {
  readonly wallMs: number;
  /** torpedo: the largest worker's maxRssBytes from its report; others: largest process, sampled. */
  readonly peakRssBytes: number | undefined;
  /** "ok" or "MISMATCH: …" */
  readonly check: string;
  /** torpedo's own wallMs, for comparison with the bench's measure of the whole command. */
  readonly reportedWallMs: number | undefined;
  /** torpedo: the job's tasks, from its report. */
  readonly reportedTasks: number | undefined;
}

/** A run that did not complete: the reason, for the table and the progress log. */
export interface RunFailure {
  readonly failure: string;
  readonly logFile: string;
}

/** Runs a case once: clears its output, times the command, then checks what it wrote. */
export async function runCaseOnce(benchCase: BenchCase, run: number, timeoutMs: number): Promise<RunResult | RunFailure> {
  mkdirSync(OUT_DIR, { recursive: true });
  mkdirSync(LOG_DIR, { recursive: true });
  // Outside the timing, and so a stale output (or _SUCCESS) can never pass for a new one.
  rmSync(benchCase.output, { recursive: true, force: true });
  const logFile = join(LOG_DIR, `${benchCase.id}-run${run}.log`);
  let result;
  try {
    result = await timeCommand(benchCase.command, { stderrFile: logFile, timeoutMs });
  } catch (err) {
    return { failure: err instanceof Error ? err.message : String(err), logFile };
  }

  if (result.timedOut) return { failure: `timed out after ${Math.round(timeoutMs / 1000)} s`, logFile };
  if (result.exitCode !== 0) return { failure: `exit ${result.exitCode ?? result.signal}`, logFile };

  let peakRssBytes = result.sampledPeakRssBytes;
  let reportedWallMs: number | undefined;
  let reportedTasks: number | undefined;
  if (benchCase.torpedo) {
    const report = parseTorpedoReport(result.stdout);
    if (report === undefined) return { failure: 'no --json report on stdout', logFile };
    if (report.status !== 'succeeded') return { failure: `status ${report.status}`, logFile };
    peakRssBytes = report.peakWorkerRssBytes;
    reportedWallMs = report.wallMs;
    reportedTasks = report.tasks;
  }

  let check: string;
  if (benchCase.torpedo && !existsSync(join(benchCase.output, '_SUCCESS'))) check = 'MISMATCH: no _SUCCESS';
  else if (!existsSync(benchCase.output)) check = 'MISMATCH: no output';
  else check = safeCheck(benchCase);
  return { wallMs: result.wallMs, peakRssBytes, check, reportedWallMs, reportedTasks };
}

function safeCheck(benchCase: BenchCase): string {
  try {
    return benchCase.check();
  } catch (err) {
    // An unreadable output is a wrong output, not a reason to abandon the other cases.
    return `MISMATCH: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The last lines of a failed run's stderr, to print under the failure. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
