// The conformance suite of the Launcher interface (src/launcher/launcher.ts): one set of tests that
// every implementation runs, the way Kysely runs one suite against every dialect. Each test gets a
// fresh harness (a launcher and what it needs: a fake API server, a job directory), a minimal
// master on the real protocol server (src/master/master-server.ts) that the workers register
// with, and looks at the real process table: a worker is "running" when a `torpedo worker`
// process holding this test's token exists and has registered, and "gone" when no process holds
// the token any more. Nothing of the launcher under test is stubbed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import type { Launcher, MasterSocket, WorkerExit } from '../../src/launcher/launcher.ts';
import { MasterServer, type ProtocolHandlers } from '../../src/master/master-server.ts';
import { WorkerPool } from '../../src/master/worker-pool.ts';
import { pickSettings, resolveSettings, WORKER_SETTINGS } from '../../src/protocol/job-settings.ts';
import { JobInfoSchema, PROTOCOL_VERSION, type JobInfo, type NextResponse } from '../../src/protocol/messages.ts';
import { BIN } from '../../src/paths.ts';

/** W: how many workers each test starts. */
export const W = 3;

/** The clauses an implementation may be exempt from (it documents not keeping them) or known to fail. */
export type Clause = 'reports-deaths' | 'reports-exits' | 'reports-failures' | 'stops-one' | 'keeps-pool' | 'kills-at-stop' | 'token-hidden';

export interface HarnessContext {
  /** This test's job token; a process that holds it is one of this test's workers. */
  readonly token: string;
}

/** One launcher under test and what the suite cannot learn from the process table. */
export interface LauncherHarness {
  readonly launcher: Launcher;
  /**
   * For a launcher whose workers someone else starts (ExternalLauncher): starts `workers` of them
   * the way that party would. Called after `startPool`.
   */
  readonly startExternalWorkers?: (workers: number, masterUrl: string, token: string) => void;
  /** What the launcher made besides processes and is still there (pods, Jobs), described. */
  readonly leftovers?: () => readonly string[];
  /** Everything the launcher and its workers logged, for diagnostics and the token check. */
  readonly logs?: () => string;
  /** Stops what the harness started (servers, temporary directories); after every test. */
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Clauses the implementation documents it does not keep, and where it says so: skipped. */
  readonly exempt?: Partial<Record<Clause, string>>;
  /** Clauses it should keep and does not (a known bug): run, reported as TODO, never hidden. */
  readonly knownFailures?: Partial<Record<Clause, string>>;
  /** Why the whole suite cannot run here. */
  readonly skip?: string;
}

/** Registers the suite for one implementation; `setup` makes a fresh harness for each test. */
export function describeLauncherConformance(name: string, setup: (ctx: HarnessContext) => Promise<LauncherHarness>, o: ConformanceOptions = {}): void {
  const clause = (c: Clause | undefined, title: string, body: (fx: Fixture) => Promise<void>): void => {
    const skip = c !== undefined ? o.exempt?.[c] : undefined;
    const todo = c !== undefined ? o.knownFailures?.[c] : undefined;
    test(title, { ...(skip !== undefined ? { skip } : {}), ...(todo !== undefined ? { todo } : {}) }, async (t) => body(await open(t, setup)));
  };
  const reports = (c: Clause): boolean => o.exempt?.[c] === undefined;

  describe(`Launcher conformance: ${name}`, { ...(o.skip !== undefined ? { skip: o.skip } : {}) }, () => {
    clause(undefined, 'starts W workers that run as processes and register with their master', async (fx) => {
      const running = await startWorkers(fx);
      if (fx.launcher.startWorker !== undefined) assert.deepEqual([...running.keys()].sort(), ids(), 'a per-worker launcher runs the ids the master picked');
      assert.equal(fx.master.registered.size, W, `exactly W workers registered: ${[...fx.master.registered.keys()].join(' ')}`);
      assert.deepEqual(fx.exits, [], 'no worker reported as ended');
    });

    clause('reports-deaths', 'reports a worker killed from outside (SIGKILL) through onExit, once, with the signal', async (fx) => {
      const running = await startWorkers(fx);
      const [victim, pid] = first(running);
      process.kill(pid, 'SIGKILL');
      const report = await fx.waitFor(`the death of ${victim} to be reported`, () => fx.exits.find((e) => e.workerId === victim));
      assert.deepEqual({ code: report.info.code, signal: report.info.signal }, { code: null, signal: 'SIGKILL' });
      assert.equal(typeof report.info.stderrTail, 'string');
      await sleep(500);
      assert.deepEqual(
        fx.exits.map((e) => e.workerId),
        [victim],
        'reported once, and no one else',
      );
    });

    clause('reports-exits', 'reports a worker that leaves when told to exit as an exit (code 0), not a death', async (fx) => {
      const [victim] = first(await startWorkers(fx));
      fx.master.dismiss(victim);
      const report = await fx.waitFor(`the exit of ${victim} to be reported`, () => fx.exits.find((e) => e.workerId === victim));
      assert.deepEqual({ code: report.info.code, signal: report.info.signal }, { code: 0, signal: null });
      assert.ok(!workerProcesses(fx.token).has(victim), 'its process is gone');
    });

    clause('reports-failures', 'reports a worker that fails with its exit code and the end of its stderr', async (fx) => {
      const [victim] = first(await startWorkers(fx));
      fx.master.fail(victim);
      const report = await fx.waitFor(`the failure of ${victim} to be reported`, () => fx.exits.find((e) => e.workerId === victim));
      assert.deepEqual({ code: report.info.code, signal: report.info.signal }, { code: 1, signal: null });
      assert.match(report.info.stderrTail, /stopping: .*TORPEDO_ERR_PROTOCOL|stopping: .*\/v1\/next/, 'the tail holds the last thing the worker said');
    });

    clause(undefined, 'stopWorker of an unknown worker is ignored', async (fx) => {
      await startWorkers(fx);
      fx.launcher.stopWorker('no-such-worker');
      await sleep(500);
      assert.equal(workerProcesses(fx.token).size, W, 'every worker still runs');
      assert.deepEqual(fx.exits, []);
    });

    clause('stops-one', 'stopWorker stops that worker and onExit follows, once; it is idempotent', async (fx) => {
      const running = await startWorkers(fx);
      const [victim] = first(running);
      fx.launcher.stopWorker(victim);
      fx.launcher.stopWorker(victim);
      await fx.waitFor(`the end of ${victim} to be reported`, () => fx.exits.find((e) => e.workerId === victim));
      await fx.waitFor(`the process of ${victim} to go`, () => (workerProcesses(fx.token).has(victim) ? undefined : true));
      fx.launcher.stopWorker(victim); // finished: ignored
      await sleep(500);
      assert.deepEqual(
        fx.exits.map((e) => e.workerId),
        [victim],
      );
      // (A pool launcher's cluster may have started a replacement meanwhile.)
      const now = workerProcesses(fx.token);
      const others = [...running.keys()].filter((id) => id !== victim);
      assert.deepEqual(
        others.filter((id) => !now.has(id)),
        [],
        'the others still run',
      );
    });

    clause('keeps-pool', 'with the real WorkerPool on top, the pool is back at W workers after one is killed', async (fx) => {
      const pool = new WorkerPool(fx.launcher, { workers: W, deathBudget: 3 * W });
      // Wired as the master wires it (master.ts, attempt-losses.ts).
      fx.master.onRegister = (id) => pool.registered(id);
      const refused: string[] = [];
      fx.onExit = (id, info) => {
        pool.exited(id);
        if (!pool.died(id, info.signal)) refused.push(id);
      };
      await pool.start(fx.master.url, fx.token);
      fx.harness.startExternalWorkers?.(W, fx.master.url, fx.token);
      const running = await fx.running(W, () => pool.live.size === W);
      const [victim, pid] = first(running);
      process.kill(pid, 'SIGKILL');
      await fx.waitFor(`the death of ${victim} to be reported`, () => fx.exits.find((e) => e.workerId === victim));
      const now = await fx.running(W, (procs) => !procs.has(victim) && sameSet(pool.live, procs.keys()));
      assert.deepEqual(refused, [], 'a death from outside is within the death budget');
      assert.ok(
        [...now.keys()].every((id) => !fx.exits.some((e) => e.workerId === id)),
        'none of the W running is one reported as ended',
      );
    });

    clause(undefined, 'stopAll lets workers told to exit leave, leaves no process or pod behind, and is idempotent', async (fx) => {
      await startWorkers(fx);
      fx.master.dismissAll();
      const t0 = performance.now();
      await Promise.all([fx.launcher.stopAll(10_000), fx.launcher.stopAll(10_000)]);
      const waited = performance.now() - t0;
      assert.ok(waited < 8000, `workers that left on their own do not wait out the grace period (${Math.round(waited)} ms)`);
      await fx.gone();
      if (reports('reports-exits')) {
        await fx.waitFor('every exit to be reported', () => (fx.exits.length >= W ? true : undefined));
        assert.deepEqual(
          fx.exits.map((e) => `${e.info.code}/${e.info.signal}`),
          Array(W).fill('0/null'),
          'each left with code 0, none was killed',
        );
      }
      await fx.launcher.stopAll(10_000);
    });

    clause('kills-at-stop', 'stopAll kills the workers that do not leave within the grace period; no process or pod is left', async (fx) => {
      await startWorkers(fx);
      await fx.launcher.stopAll(300);
      await fx.gone();
      await fx.launcher.stopAll(300);
    });

    clause('token-hidden', 'the token is on no command line and in no log', async (fx) => {
      await startWorkers(fx);
      const exposed = processes().filter((p) => p.argv.some((a) => a.includes(fx.token)));
      assert.deepEqual(
        exposed.map((p) => `${p.pid} ${basename(p.argv[0] ?? '')}`),
        [],
        'every user of the machine can read command lines (ps)',
      );
      assert.ok(!(fx.harness.logs?.() ?? '').includes(fx.token), 'a log holds the token');
    });
  });
}

// ── the fixture ──────────────────────────────────────────────────────────────────────────────────

interface ExitReport {
  readonly workerId: string;
  readonly info: WorkerExit;
}

interface Fixture {
  readonly harness: LauncherHarness;
  readonly launcher: Launcher;
  readonly master: ConformanceMaster;
  readonly token: string;
  /** Every onExit call, in order. */
  readonly exits: ExitReport[];
  /** Also told of every onExit call (the WorkerPool). */
  onExit: (workerId: string, info: WorkerExit) => void;
  waitFor<T>(what: string, probe: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** Waits until exactly `n` worker processes run, each registered, and `also` holds; returns them (id → pid). */
  running(n: number, also?: (procs: ReadonlyMap<string, number>) => boolean): Promise<ReadonlyMap<string, number>>;
  /** Waits until no process holds the token and the harness has nothing left. */
  gone(): Promise<void>;
}

async function open(t: TestContext, setup: (ctx: HarnessContext) => Promise<LauncherHarness>): Promise<Fixture> {
  const token = randomBytes(24).toString('base64url');
  const harness = await setup({ token });
  const listening = ConformanceMaster.listen(token, harness.launcher.masterSocket);
  let ended = false;
  t.after(async () => {
    // Even after a failure: the launcher stops its workers (replacing none, as a master whose job
    // ended: attempt-losses.ts), then whatever is left is killed.
    ended = true;
    await harness.launcher.stopAll(0).catch(() => {});
    await harness.close();
    await (await listening.catch(() => undefined))?.close();
    await sweep(token);
  });
  const master = await listening;
  const exits: ExitReport[] = [];
  const fx: Fixture = {
    harness,
    launcher: harness.launcher,
    master,
    token,
    exits,
    onExit: () => {},
    async waitFor(what, probe, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}\n${explain(fx)}`);
        await sleep(50);
      }
    },
    running: (n, also = () => true) =>
      fx.waitFor(`${n} workers to run and register`, () => {
        const procs = workerProcesses(token);
        return procs.size === n && [...procs.keys()].every((id) => fx.master.registered.has(id)) && also(procs) ? procs : undefined;
      }),
    gone: async () => {
      await fx.waitFor('no worker process and nothing of the launcher to be left', () => (tokenHolders(token).length === 0 && (harness.leftovers?.() ?? []).length === 0 ? true : undefined), 10_000);
    },
  };
  // The master sets onExit before the first start (launcher.ts).
  harness.launcher.onExit = (workerId, info) => {
    exits.push({ workerId, info });
    if (!ended) fx.onExit(workerId, info);
  };
  return fx;
}

/** Starts W workers as the master would (startWorker W times, or startPool once) and waits for them. */
async function startWorkers(fx: Fixture): Promise<ReadonlyMap<string, number>> {
  const { launcher, master, token } = fx;
  if (launcher.startWorker !== undefined) for (const id of ids()) launcher.startWorker(id, master.url, token);
  else if (launcher.startPool !== undefined) await launcher.startPool(W, master.url, token);
  else assert.fail('a launcher has startWorker or startPool');
  fx.harness.startExternalWorkers?.(W, master.url, token);
  return fx.running(W);
}

function ids(): string[] {
  return Array.from({ length: W }, (_, i) => `w${i + 1}`);
}

function first(running: ReadonlyMap<string, number>): [string, number] {
  const entry = [...running].sort(([a], [b]) => a.localeCompare(b))[0];
  assert.ok(entry !== undefined, 'a worker runs');
  return entry;
}

function sameSet(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function explain(fx: Fixture): string {
  const procs = tokenHolders(fx.token).map((p) => `  ${p.pid} ${p.argv.join(' ').replaceAll(fx.token, '<token>').slice(0, 200)}`);
  return [
    `registered: ${[...fx.master.registered.keys()].join(' ') || '(none)'}`,
    `reported: ${fx.exits.map((e) => `${e.workerId} ${e.info.code}/${e.info.signal}`).join(', ') || '(none)'}`,
    `processes holding the token:\n${procs.join('\n') || '  (none)'}`,
    `left by the launcher: ${(fx.harness.leftovers?.() ?? []).join(', ') || '(none)'}`,
    `logs (end):\n${(fx.harness.logs?.() ?? '').slice(-3000)}`,
  ].join('\n');
}

// ── the process table ────────────────────────────────────────────────────────────────────────────

interface Proc {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Its environment at exec; undefined where it may not be read (another user's process). */
  readonly env: ReadonlyMap<string, string> | undefined;
}

/** Every process of the machine, from /proc. */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv.at(-1) === '') argv.pop();
    let env: Map<string, string> | undefined;
    try {
      const entries = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').filter(Boolean);
      env = new Map(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    } catch {
      env = undefined;
    }
    out.push({ pid: Number(name), argv, env });
  }
  return out;
}

/** Processes with the token in their environment or command line: bubblewrap, setpriv and the workers themselves. */
function tokenHolders(token: string): Proc[] {
  return processes().filter((p) => p.env?.get('TORPEDO_TOKEN') === token || p.argv.some((a) => a.includes(token)));
}

/** The running `torpedo worker` processes holding the token, by worker id (found as the CLI finds it). */
export function workerProcesses(token: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of tokenHolders(token)) {
    const bin = p.argv.indexOf(BIN);
    if (!basename(p.argv[0] ?? '').startsWith('node') || bin < 0 || p.argv[bin + 1] !== 'worker') continue;
    const flag = p.argv.indexOf('--id', bin);
    const id = (flag >= 0 ? p.argv[flag + 1] : undefined) ?? (p.env?.get('TORPEDO_WORKER_ID') || `w-${p.pid}`);
    out.set(id, p.pid);
  }
  return out;
}

/** Kills every process holding the token until none has for a while (one may be starting). */
async function sweep(token: string): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    const left = tokenHolders(token);
    quiet = left.length === 0 ? quiet + 1 : 0;
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(100);
  }
}

// ── a minimal master ─────────────────────────────────────────────────────────────────────────────

const LONG_POLL_MS = 400;
/** Workers give up on a master silent for this long: orphans of a failed test leave on their own. */
const MASTER_TIMEOUT_MS = 4000;
/** What a worker made to fail is given to load: nothing is there. */
const NOWHERE = '/nonexistent/torpedo-launcher-conformance';

const JOB_INFO: JobInfo = JobInfoSchema.parse({
  protocol: PROTOCOL_VERSION,
  jobId: 'launcher-conformance',
  jobName: 'launcher-conformance',
  bundle: `${NOWHERE}/job.mjs`,
  workDir: NOWHERE,
  ...pickSettings(resolveSettings({}), WORKER_SETTINGS),
  maps: 1,
  masterTimeoutMs: MASTER_TIMEOUT_MS,
});

/**
 * Just enough of a master for workers to register and wait, on the real protocol server: it hands
 * out no work, only `wait`, `exit` to the workers it is told to dismiss, and to a worker it is told
 * to fail a task whose job module does not exist (the worker then exits 1).
 */
class ConformanceMaster implements ProtocolHandlers {
  /** Worker id → the pid it gave. */
  readonly registered = new Map<string, number>();
  onRegister: (workerId: string) => void = () => {};
  url = '';
  readonly #server: MasterServer;
  readonly #dismissed = new Set<string>();
  readonly #failing = new Set<string>();
  readonly #waiting = new Set<() => void>();
  #everyone = false;

  private constructor(token: string) {
    this.#server = new MasterServer(token, this);
  }

  /** Listens where the launcher says its workers can reach (its socket), else on loopback TCP. */
  static async listen(token: string, socket: MasterSocket | undefined): Promise<ConformanceMaster> {
    const master = new ConformanceMaster(token);
    const listening = socket !== undefined ? await master.#server.listenSocket(socket.path, socket.owner) : await master.#server.listen('127.0.0.1', 0);
    master.url = socket?.url ?? listening;
    return master;
  }

  register(req: { workerId: string; pid: number }): JobInfo {
    this.registered.set(req.workerId, req.pid);
    this.onRegister(req.workerId);
    return JOB_INFO;
  }

  async next(req: { workerId: string }): Promise<NextResponse> {
    const deadline = Date.now() + LONG_POLL_MS;
    for (;;) {
      if (this.#everyone || this.#dismissed.has(req.workerId)) return { type: 'exit' };
      if (this.#failing.delete(req.workerId)) {
        // A task no worker can take (a negative index breaks the protocol's schema): the worker
        // refuses the reply, and stops. (A task it takes but cannot run only fails that attempt.)
        return { type: 'task', task: { attemptId: `${req.workerId}-m0-a0`, kind: 'map', index: -1, attempt: 0, split: { file: `${NOWHERE}/input`, start: 0, end: 1 } } };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { type: 'wait' };
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiting.add(done);
      });
    }
  }

  heartbeat(): { abort: boolean } {
    return { abort: true };
  }

  commit(): { commit: boolean; reason: string } {
    return { commit: false, reason: 'this master commits nothing' };
  }

  done(): { ok: true } {
    return { ok: true };
  }

  failed(): { ok: true } {
    return { ok: true };
  }

  /** Answers `exit` to this worker's next poll. */
  dismiss(workerId: string): void {
    this.#dismissed.add(workerId);
    this.#wake();
  }

  /** Answers `exit` to every worker, as a master does at the end of its job. */
  dismissAll(): void {
    this.#everyone = true;
    this.#wake();
  }

  /** Gives this worker an answer it cannot take: it stops, with exit code 1. */
  fail(workerId: string): void {
    this.#failing.add(workerId);
    this.#wake();
  }

  async close(): Promise<void> {
    this.#wake();
    await this.#server.close();
  }

  #wake(): void {
    for (const f of [...this.#waiting]) f();
  }
}
