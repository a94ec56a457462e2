import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { attemptLogPath, attemptLogsDir } from '../protocol/attempt-logs.ts';
import { formatBytes } from '../protocol/units.ts';

type Write = typeof process.stdout.write;

/**
 * One attempt's log (protocol/attempt-logs.ts), written by its worker while the attempt runs:
 * while it is open, whatever this process writes to stdout or stderr (user code's
 * `console.log`, a streaming command's stderr, the worker's own lines) is also appended to the
 * attempt's file, synchronously, so a worker that dies mid-attempt leaves what was written
 * before. At `capBytes` the rest is counted, not kept, and `close` says how much was dropped. The
 * streams themselves still get everything: the worker's log, and `torpedo run -v`.
 *
 * A worker runs one attempt at a time, so one log is open at a time; `open` replaces the
 * process's `write` functions and `close` puts them back.
 */
export class AttemptLog {
  readonly #fd: number;
  readonly #cap: number;
  #written: number;
  #dropped = 0;
  /** Whether what was kept ends a line: the closing lines start on one of their own. */
  #atLineStart = true;
  readonly #restore: () => void;

  private constructor(fd: number, capBytes: number) {
    this.#fd = fd;
    this.#cap = capBytes;
    // A resumed job's attempt of the same id appends to the earlier one's log, within one cap.
    this.#written = fstatSync(fd).size;
    this.#restore = tee((chunk) => this.#append(chunk));
  }

  /** Opens attempt `attemptId`'s log in the output `output` (creating `_logs/` on shared storage that lacks it). */
  static open(output: string, attemptId: string, capBytes: number): AttemptLog {
    mkdirSync(attemptLogsDir(output), { recursive: true });
    const fd = openSync(attemptLogPath(output, attemptId), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    return new AttemptLog(fd, capBytes);
  }

  /**
   * Ends the log with the attempt's outcome, and how much the cap dropped; stops copying the
   * process's output. Called once, by the worker, when the attempt is over.
   */
  close(outcome: { attemptId: string; result: 'succeeded' | 'failed' | 'dropped' }): void {
    this.#restore();
    const tail = [
      ...(this.#dropped > 0 ? [`--- torpedo: ${this.#dropped} bytes dropped: the log reached its cap of ${formatBytes(this.#cap)} (--log-cap) ---`] : []),
      `--- torpedo: ${outcome.attemptId} ${outcome.result} ---`,
    ];
    try {
      writeSync(this.#fd, `${this.#atLineStart ? '' : '\n'}${tail.join('\n')}\n`);
    } catch {
      // A full storage loses the last line, not the attempt.
    } finally {
      closeSync(this.#fd);
    }
  }

  #append(chunk: string | Uint8Array): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const room = Math.max(0, this.#cap - this.#written);
    const kept = Math.min(room, bytes.length);
    this.#dropped += bytes.length - kept;
    if (kept === 0) return;
    try {
      writeSync(this.#fd, bytes, 0, kept);
      this.#written += kept;
      this.#atLineStart = bytes[kept - 1] === 0x0a;
    } catch {
      // A log that cannot be written (a full storage) must not fail the attempt: count it as dropped.
      this.#dropped += kept;
    }
  }
}

/** Copies every write to process.stdout and process.stderr to `sink` as well; returns what undoes it. */
function tee(sink: (chunk: string | Uint8Array) => void): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write);
  for (const [i, s] of streams.entries()) {
    const original = originals[i] as Write;
    s.write = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      sink(chunk);
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
  }
  return () => {
    for (const [i, s] of streams.entries()) s.write = originals[i] as Write;
  };
}
