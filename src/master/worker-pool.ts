import type { Launcher } from '../launcher/launcher.ts';

/** Hard cap on worker replacements, per worker of the pool, whatever killed them. */
export const MAX_DEATHS_PER_WORKER = 100;

export interface WorkerPoolOptions {
  /** W: how many workers the job runs. */
  readonly workers: number;
  /**
   * Deaths of the workers' own doing (they cannot start, or the job kills them) after which the
   * job gives up rather than replace them forever; the master uses 3W + maps + reducers.
   */
  readonly deathBudget: number;
}

/**
 * The master's side of its workers: starting W of them, knowing which are live, replacing the
 * dead within a budget, and letting them go at the end. With a per-worker launcher (local
 * processes) it picks the ids and starts replacements; with a pool launcher (a Kubernetes Job,
 * workers started by hand) the workers name themselves and something else keeps their number up.
 */
export class WorkerPool {
  readonly #launcher: Launcher;
  readonly #o: WorkerPoolOptions;
  readonly #live = new Set<string>();
  readonly #registered = new Set<string>();
  /** Workers answered `exit` once the job ended. */
  readonly #toldToExit = new Set<string>();
  #seq = 0;
  /** Deaths that count towards the budget. */
  #deaths = 0;
  #allDeaths = 0;
  #url = '';
  #token = '';

  constructor(launcher: Launcher, options: WorkerPoolOptions) {
    this.#launcher = launcher;
    this.#o = options;
  }

  /** True for a pool launcher: its workers are not this master's to start, replace or stop. */
  get selfManaged(): boolean {
    return this.#launcher.startWorker === undefined;
  }

  get live(): ReadonlySet<string> {
    return this.#live;
  }

  /** Starts the W workers; called once, by `Master.run`, after the master listens. */
  async start(url: string, token: string): Promise<void> {
    this.#url = url;
    this.#token = token;
    if (this.#launcher.startPool !== undefined) await this.#launcher.startPool(this.#o.workers, url, token);
    else for (let i = 0; i < this.#o.workers; i++) this.#startOne();
  }

  /** A worker said its first word. A pool launcher's workers are live from then on. */
  registered(workerId: string): void {
    this.#registered.add(workerId);
    if (this.selfManaged) this.#live.add(workerId);
  }

  /** A worker was answered `exit`. */
  toldToExit(workerId: string): void {
    this.#toldToExit.add(workerId);
  }

  /** Stops one worker we started (it went silent, ran too long, or lost a backup race). */
  stop(workerId: string): void {
    this.#launcher.stopWorker(workerId);
  }

  /** A worker ended; it is no longer live. Called once per exit, before `died`. */
  exited(workerId: string): void {
    this.#live.delete(workerId);
  }

  /**
   * Counts a worker's death while the job runs, and starts a replacement when fewer than W are
   * live. Returns false, starting none, once deaths exceed the budget: a registered worker killed
   * by SIGKILL was stopped from outside (or by this master) and is not counted, but every death
   * counts towards a hard cap of MAX_DEATHS_PER_WORKER per worker.
   */
  died(workerId: string, signal: string | null): boolean {
    if (signal !== 'SIGKILL' || !this.#registered.has(workerId)) this.#deaths++;
    this.#allDeaths++;
    const { deathBudget, workers } = this.#o;
    if (this.#deaths > deathBudget || this.#allDeaths > MAX_DEATHS_PER_WORKER * workers + deathBudget) return false;
    if (this.#live.size < workers) this.#startOne();
    return true;
  }

  /**
   * A pool's workers are not ours to stop: wait until each live one has been told to exit (they
   * ask within a long poll, or after their current attempt is refused), for at most `maxMs`.
   */
  async drain(maxMs: number): Promise<void> {
    for (let waited = 0; waited < maxMs && [...this.#live].some((w) => !this.#toldToExit.has(w)); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits up to `graceMs` for the workers to leave, then kills the rest. Idempotent. */
  stopAll(graceMs: number): Promise<void> {
    return this.#launcher.stopAll(graceMs);
  }

  #startOne(): void {
    if (this.#launcher.startWorker === undefined) return;
    const id = `w${++this.#seq}`;
    this.#live.add(id);
    this.#launcher.startWorker(id, this.#url, this.#token);
  }
}
