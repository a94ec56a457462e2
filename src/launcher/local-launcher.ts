import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ConfinedCommand } from '../sandbox/index.ts';
import type { Launcher, MasterSocket, WorkerExit } from './launcher.ts';

const TAIL_BYTES = 8 << 10;

export interface LocalLauncherOptions {
  /** Directory for one log file per worker (its stdout and stderr). */
  readonly logDir: string;
  /**
   * The command line of one worker, `node … bin/torpedo worker --master URL --id ID`, with the
   * token in its environment (not on the command line): confined (see worker-sandbox.ts) or not.
   */
  readonly command: (workerId: string, masterUrl: string, token: string) => ConfinedCommand;
  /** Where the master must listen for these workers, when they have no network. */
  readonly masterSocket?: MasterSocket;
  /** Also copy workers' stdout and stderr (user code's, and their own lines) to this process's stderr. */
  readonly echo?: boolean;
  /** Called when `stopAll` has stopped every worker (to remove the socket's directory). */
  readonly onStopped?: () => void;
}

/**
 * Workers as child processes of this process, so that `ps` shows `torpedo worker`. Confined
 * workers are started through bubblewrap, whose exit status carries the worker's: a worker that
 * a signal ended (bwrap exits 128 + N) is reported as ended by that signal.
 */
export class LocalLauncher implements Launcher {
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  readonly masterSocket: MasterSocket | undefined;
  readonly #opts: LocalLauncherOptions;
  readonly #children = new Map<string, { child: ChildProcess; confined: boolean }>();

  constructor(opts: LocalLauncherOptions) {
    this.#opts = opts;
    this.masterSocket = opts.masterSocket;
    mkdirSync(opts.logDir, { recursive: true });
  }

  startWorker(workerId: string, masterUrl: string, token: string): void {
    const cmd = this.#opts.command(workerId, masterUrl, token);
    const child = spawn(cmd.file, cmd.args, { env: cmd.env, ...(cmd.cwd !== undefined ? { cwd: cmd.cwd } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.set(workerId, { child, confined: cmd.confined });
    const log: WriteStream = createWriteStream(join(this.#opts.logDir, `${workerId}.log`), { flags: 'a' });
    log.on('error', () => {}); // the log directory goes away at job commit
    let tail = '';
    child.stdout?.on('data', (d: Buffer) => {
      log.write(d);
      // To this process's stderr, never its stdout: what user code prints is no part of any output.
      if (this.#opts.echo) process.stderr.write(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      log.write(d);
      if (this.#opts.echo) process.stderr.write(d);
      tail = (tail + d.toString('utf8')).slice(-TAIL_BYTES);
    });
    child.on('error', (e) => {
      tail += `\nspawn failed: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      this.#children.delete(workerId);
      log.end();
      this.onExit(workerId, { ...(cmd.confined ? unwrapExit(code, signal) : { code, signal }), stderrTail: tail });
    });
  }

  stopWorker(workerId: string): void {
    this.#children.get(workerId)?.child.kill('SIGKILL');
  }

  async stopAll(graceMs = 1000): Promise<void> {
    const waits = [...this.#children.values()].map(
      ({ child: c }) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
          c.once('close', () => {
            clearTimeout(kill);
            resolve();
          });
        }),
    );
    await Promise.all(waits);
    this.#opts.onStopped?.();
  }
}

/** bwrap's exit status: the sandboxed process's code, or 128 + the number of the signal that ended it. */
function unwrapExit(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: string | null } {
  if (signal !== null || code === null || code <= 128) return { code, signal };
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return name !== undefined ? { code: null, signal: name } : { code, signal };
}
