import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { BIN } from '../paths.ts';
import type { Launcher, WorkerExit } from './launcher.ts';

const TAIL_BYTES = 8 << 10;

export interface LocalLauncherOptions {
  /** Directory for one log file per worker (its stdout and stderr). */
  readonly logDir: string;
  /** Extra Node flags for workers, e.g. a heap limit. */
  readonly nodeArgs?: readonly string[];
  /** Also copy workers' stderr to this process's stderr. */
  readonly echo?: boolean;
}

/**
 * Workers as child processes of this process: `node bin/torpedo worker --master URL`, so that
 * `ps` shows `torpedo worker`. The token travels in the environment, not on the command line.
 */
export class LocalLauncher implements Launcher {
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  readonly #opts: LocalLauncherOptions;
  readonly #children = new Map<string, ChildProcess>();

  constructor(opts: LocalLauncherOptions) {
    this.#opts = opts;
    mkdirSync(opts.logDir, { recursive: true });
  }

  startWorker(workerId: string, masterUrl: string, token: string): void {
    // TORPEDO_WORKER_NODE_ARGS: extra Node flags for debugging workers, e.g. "--cpu-prof".
    const debugArgs = (process.env['TORPEDO_WORKER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
    const args = [...(this.#opts.nodeArgs ?? []), ...debugArgs, '--enable-source-maps', BIN, 'worker', '--master', masterUrl, '--id', workerId];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, TORPEDO_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.set(workerId, child);
    const log: WriteStream = createWriteStream(join(this.#opts.logDir, `${workerId}.log`), { flags: 'a' });
    log.on('error', () => {}); // the log directory goes away at job commit
    let tail = '';
    child.stdout?.on('data', (d: Buffer) => log.write(d));
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
      this.onExit(workerId, { code, signal, stderrTail: tail });
    });
  }

  stopWorker(workerId: string): void {
    this.#children.get(workerId)?.kill('SIGKILL');
  }

  async stopAll(graceMs = 1000): Promise<void> {
    const waits = [...this.#children.values()].map(
      (c) =>
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
  }
}
