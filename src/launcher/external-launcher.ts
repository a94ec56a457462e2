import type { Launcher, WorkerExit } from './launcher.ts';

/**
 * Workers that someone else starts (`torpedo worker --master URL` by hand, on other hosts, or by
 * a script): the master only waits for them to register. It cannot see them die, so their
 * attempts come back to it when their leases expire; a worker it gives up on is told to stop
 * through the protocol (its attempts are refused at heartbeat and commit), not killed.
 */
export class ExternalLauncher implements Launcher {
  onExit: (workerId: string, info: WorkerExit) => void = () => {};
  readonly #log: (line: string) => void;
  readonly #tokenHint: string;

  /** `tokenHint`: how a worker gets the token, for the start-up message (never the token itself). */
  constructor(o: { log: (line: string) => void; tokenHint: string }) {
    this.#log = o.log;
    this.#tokenHint = o.tokenHint;
  }

  async startPool(workers: number, masterUrl: string): Promise<void> {
    this.#log(`waiting for workers (${workers} wanted): start each with \`torpedo worker --master ${masterUrl}\` and ${this.#tokenHint}`);
  }

  stopWorker(workerId: string): void {
    this.#log(`worker ${workerId} is not answering; its attempts will be refused if it comes back`);
  }

  async stopAll(): Promise<void> {
    // Nothing to kill: each worker leaves when its next request is answered `exit`.
  }
}
