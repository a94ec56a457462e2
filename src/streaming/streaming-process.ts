import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { commandSandbox, shimDir } from './command-sandbox.ts';
import { LineSplitter } from './line-splitter.ts';
import type { StreamingSpec } from './streaming-spec.ts';

const STDERR_TAIL_BYTES = 4096;
/** Hadoop Streaming's way for a command to count: `reporter:counter:<group>,<name>,<amount>`. */
const COUNTER = /^reporter:counter:([^,]*),([^,]*),(-?\d+)\s*$/;

/**
 * The user's command as `/bin/sh -c`, under a small shell wrapper: the command runs in the
 * background with the real stdin (fd 3; a background job would otherwise read /dev/null), and a
 * SIGTERM — sent by the kernel when the worker dies (pdeathsig) — kills the whole process group,
 * pipelines and children included.
 */
const WRAPPER = 'exec 3<&0; trap "kill -KILL 0" TERM; (eval "$1") <&3 3<&- & wait $!';

export interface ProcessOptions {
  readonly role: 'mapper' | 'reducer' | 'combiner';
  readonly command: string;
  readonly spec: StreamingSpec;
  /** The attempt's directory: the command's working directory is made in it. */
  readonly attemptDir: string;
  readonly maxLineBytes: number;
  /** Called for every line the command writes on stdout, synchronously. */
  readonly onLine: (buf: Buffer, start: number, end: number) => void;
  /** Adds to a user counter. */
  readonly count: (name: string, n: number) => void;
  /** Hadoop Streaming's job variables for the command (task-environment.ts). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * One run of a streaming command: its own working directory (a copy of the job's `--file`
 * files, in the attempt's directory), its own process group, confined (command-sandbox.ts);
 * stdin written with backpressure, stdout cut into lines as it arrives, stderr scanned for
 * counters, kept (its tail) for errors and copied to the attempt's log.
 */
export class StreamingProcess {
  readonly #o: ProcessOptions;
  readonly #child: ChildProcess;
  readonly #cwd: string;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderrTail = '';
  #stderrCarry = '';
  #failure: Error | undefined;

  constructor(o: ProcessOptions) {
    this.#o = o;
    this.#cwd = mkdtempSync(join(o.attemptDir, `${o.role}-`));
    for (const f of readdirSync(o.spec.filesDir)) copyFileSync(join(o.spec.filesDir, f), join(this.#cwd, f));
    // A clean environment (no tokens or secrets of the worker), set by the sandbox.
    const cmd = commandSandbox(o.spec, o.role, this.#cwd, ['/bin/sh', '-c', WRAPPER, 'torpedo-stream', o.command], o.env ?? {});
    this.#child = spawn(cmd.file, cmd.args, {
      ...(cmd.cwd !== undefined ? { cwd: cmd.cwd } : {}),
      env: cmd.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const lines = new LineSplitter(o.maxLineBytes, `the ${o.role} \`${o.command}\``);
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      if (this.#failure !== undefined) return;
      try {
        lines.push(chunk, o.onLine);
      } catch (e) {
        this.#fail(e as Error);
      }
    });
    this.#child.stdout?.on('end', () => {
      if (this.#failure !== undefined) return;
      try {
        lines.end(o.onLine);
      } catch (e) {
        this.#fail(e as Error);
      }
    });
    // Copied to the worker's stderr, and so into the attempt's log (worker/attempt-log.ts), as
    // Hadoop Streaming keeps a task's stderr in its log.
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.#stderr(chunk.toString('utf8'));
    });
    // A command that exits without reading all of stdin makes writes fail with EPIPE: the exit
    // status then tells what happened.
    this.#child.stdin?.on('error', () => {});
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (e) => {
        this.#fail(new TorpedoError('TORPEDO_ERR_USER_CODE', `the ${o.role} \`${o.command}\` could not be started: ${e.message}`));
        resolve({ code: null, signal: null });
      });
      this.#child.on('close', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Writes to the command's stdin; resolves when it may take more (backpressure). */
  async write(buf: Uint8Array): Promise<void> {
    const stdin = this.#child.stdin;
    if (this.#failure !== undefined) throw this.#failure;
    if (stdin === null || stdin.destroyed || stdin.writableEnded) return;
    if (!stdin.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done);
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Closes stdin and waits for the command to exit; throws with its stderr if it failed. */
  async finish(): Promise<void> {
    this.#child.stdin?.end();
    const { code, signal } = await this.#exited;
    this.#cleanup();
    if (this.#failure !== undefined) throw this.#failure;
    if (code !== 0) {
      const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
      const tail = (this.#stderrTail + this.#stderrCarry).trim();
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', `the ${this.#o.role} \`${this.#o.command}\` ${how}${tail ? `; its stderr ended with:\n${tail}` : ' (no stderr)'}`);
    }
  }

  /** Stops the command and its children at once (the attempt failed elsewhere). */
  kill(): void {
    try {
      if (this.#child.pid !== undefined) process.kill(-this.#child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    this.#cleanup();
  }

  #stderr(text: string): void {
    const all = this.#stderrCarry + text;
    const lines = all.split('\n');
    this.#stderrCarry = (lines.pop() ?? '').slice(-STDERR_TAIL_BYTES);
    for (const line of lines) {
      const m = COUNTER.exec(line);
      if (m !== null) {
        this.#o.count(`${m[1]}.${m[2]}`, Number(m[3]));
      } else if (!line.startsWith('reporter:status:')) {
        this.#stderrTail = `${this.#stderrTail}${line}\n`.slice(-STDERR_TAIL_BYTES);
      }
    }
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    this.kill();
  }

  #cleanup(): void {
    rmSync(this.#cwd, { recursive: true, force: true });
    rmSync(shimDir(this.#cwd), { recursive: true, force: true });
  }
}
