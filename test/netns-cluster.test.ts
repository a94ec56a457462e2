import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, ROOT, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { NetnsCluster, netnsUnavailable } from './support/netns-cluster.ts';

/**
 * The task protocol across a real network: a master on one network host, six workers on six
 * others (Linux network namespaces on a bridge, test/support/netns-cluster.ts), the job directory
 * on the shared filesystem. Faults are real: an interface goes down, a host's processes are
 * killed, routes between two hosts are cut. Each run's output must equal a fault-free `torpedo
 * run`, every task must be committed exactly once, and fenced attempts must never publish.
 */
const unavailable = netnsUnavailable();
const JOB = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
const WORKERS = 6;
const LEASE_MS = 2000;
const MAPS = 12;
const REDUCERS = 3;
const LINES_PER_SPLIT = 12_000; // paced-wordcount sleeps 20 ms per 100 lines: ≈ 2.5 s per map task

describe('workers on other network hosts: partitions, dead hosts and fencing', { skip: unavailable === undefined ? false : `skipped: ${unavailable}` }, () => {
  let cluster: NetnsCluster;
  let dir: string;
  let input: string;
  let expected: string[];
  let totalLines: number;

  before(async () => {
    cluster = new NetnsCluster(1 + WORKERS);
    dir = tempDir('torpedo-netns-');
    input = join(dir, 'input.txt');
    const lines: string[] = [];
    for (let i = 0; i < MAPS * LINES_PER_SPLIT; i++) lines.push(`w${i % 97} v${(i * 7) % 13} shared line${i % 1000}`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    totalLines = lines.length;
    // The reference: the same job on this machine, no network, no faults.
    const ref = await runCli(['run', JOB, '-i', input, '-o', join(dir, 'reference'), '--maps', String(MAPS), '-r', String(REDUCERS), '--workers', '2', '--no-progress']);
    assert.equal(ref.code, 0, ref.stderr);
    expected = readParts(join(dir, 'reference'));
  });

  after(() => {
    cluster?.destroy();
    if (dir !== undefined) removeDir(dir);
  });

  test('fault-free: the output equals a local run, each task committed once', async () => {
    const run = await clusterRun('clean');
    await run.finished;
    run.check();
  });

  test('a worker host partitioned mid-task and healed after its lease expired: its attempt is re-run elsewhere and fenced', async () => {
    // These workers wait longer than the partition lasts, so that the cut-off one comes back.
    const run = await clusterRun('partition', { giveUpMs: 15_000 });
    const victim = cluster.host('host1');
    const attempt = await run.runningAttemptOn('host1');
    cluster.partition(victim);
    await run.waitForLog(new RegExp(`${attempt} lost: no heartbeat from host1`), 10_000);
    cluster.heal(victim);
    await run.finished;
    run.check();
    // The late attempt never published: the master refused its commit, or it learned from its
    // first heartbeat after the heal that the task was taken back, and dropped its output.
    const w1 = run.workerLog('host1');
    const fenced = run.masterLog.includes(`commit refused to ${attempt} on host1`) || w1.includes(`${attempt} dropped:`);
    assert.ok(fenced, `attempt ${attempt} was neither refused nor dropped.\nmaster:\n${run.masterLog}\nhost1:\n${w1}`);
    assert.doesNotMatch(run.masterLog, new RegExp(`committed by ${attempt} `));
    assert.doesNotMatch(w1, new RegExp(`${attempt} done in`));
  });

  test('a worker host killed mid-task: its attempt is re-run after the lease expires', async () => {
    const run = await clusterRun('killed');
    const attempt = await run.runningAttemptOn('host2');
    assert.ok(cluster.killHost(cluster.host('host2')).length > 0, 'nothing ran on host2');
    await run.finished;
    run.check();
    assert.match(run.masterLog, new RegExp(`${attempt} lost: no heartbeat from host2`));
    assert.equal(run.exitCode('host2'), null, 'host2 was killed by a signal');
  });

  test('the master host cut off from two workers: they stop on their own within their give-up time; the rest finish the job', async () => {
    const run = await clusterRun('cut');
    await run.runningAttemptOn('host3');
    // Both have their JobInfo (and with it the job's give-up time): a worker cut off while it
    // registers waits for its master as long as a worker without a job does (30 s by default).
    for (const w of ['host3', 'host4']) {
      await waitFor(() => run.workerLog(w).includes('registered for job'), 30_000, () => `${w} did not register:\n${run.workerLog(w)}`);
    }
    const master = cluster.host('host0');
    const cutAt = Date.now();
    cluster.cut(master, cluster.host('host3'));
    cluster.cut(master, cluster.host('host4'));
    try {
      await run.finished;
      run.check();
      // 2 × lease (the default give-up time) + one request timeout + a heartbeat, at most.
      const bound = 2 * LEASE_MS + 2000 + 1000 + 2000;
      for (const w of ['host3', 'host4']) {
        const exited = await run.exited(w, bound + 5000);
        assert.equal(exited.code, 3, `${w} should stop with exit code 3 (master unreachable):\n${run.workerLog(w)}`);
        assert.ok(exited.at - cutAt <= bound, `${w} stopped ${exited.at - cutAt} ms after the cut (bound ${bound} ms)`);
        assert.match(run.workerLog(w), /(no answer from the master for \d+ ms|giving up)/);
      }
    } finally {
      cluster.mend(master, cluster.host('host3'));
      cluster.mend(master, cluster.host('host4'));
    }
  });

  /**
   * Prepares the job in DIR/NAME, starts its master on host0 (external workers) and a worker on
   * each other host. Bounded: the master gets 120 s.
   */
  async function clusterRun(name: string, o: { giveUpMs?: number } = {}) {
    const out = join(dir, name);
    // Logs and the last status stay in test-artifacts/ (git-ignored), for a look after a failure.
    const logs = join(ROOT, 'test-artifacts', 'netns', name);
    rmSync(logs, { recursive: true, force: true });
    mkdirSync(logs, { recursive: true });
    const prep = await runCli(['run', JOB, '-i', input, '-o', out, '--maps', String(MAPS), '-r', String(REDUCERS), '--workers', String(WORKERS), '--lease-timeout', String(LEASE_MS), '--prepare-only']);
    assert.equal(prep.code, 0, prep.stderr);
    const statusFile = join(logs, 'status.json');
    const master = cluster.host('host0');
    const token = `t-${name}-${process.pid}`;
    const env = { TORPEDO_TOKEN: token };
    const masterProc = cluster.spawn(master, process.execPath, [BIN, 'master', '--job', join(out, '_temporary'), '--launcher', 'external', '--listen', `${master.ip}:7070`, '--status-file', statusFile, '--status-interval', '100'], { env, cwd: ROOT });
    const masterOut = collect(masterProc);
    const finished = new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the master of ${name} did not finish in 120 s:\n${masterOut.text()}`)), 120_000);
      masterProc.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    await waitFor(() => masterOut.text().includes('waiting for workers'), 30_000, () => `the master did not start:\n${masterOut.text()}`);
    const workers = new Map<string, { proc: ChildProcess; out: ReturnType<typeof collect>; exit?: { code: number | null; at: number } }>();
    for (const h of cluster.hosts.slice(1)) {
      const args = [BIN, 'worker', '--master', `http://${master.ip}:7070`, '--id', h.name, ...(o.giveUpMs !== undefined ? ['--give-up-after', String(o.giveUpMs)] : [])];
      const proc = cluster.spawn(h, process.execPath, args, { env, cwd: ROOT });
      const w: { proc: ChildProcess; out: ReturnType<typeof collect>; exit?: { code: number | null; at: number } } = { proc, out: collect(proc) };
      proc.once('close', (code) => (w.exit = { code, at: Date.now() }));
      workers.set(h.name, w);
    }
    const run = {
      finished: finished.then(async (code) => {
        // Workers leave once told `exit` (or when they give up): wait for them, bounded.
        await waitFor(() => [...workers.values()].every((w) => w.exit !== undefined), 20_000, () => 'workers did not stop after the job ended').catch(() => {});
        writeFileSync(join(logs, 'master.log'), masterOut.text());
        for (const [n, w] of workers) writeFileSync(join(logs, `${n}.log`), w.out.text());
        assert.equal(code, 0, `the master of ${name} failed:\n${masterOut.text()}`);
      }),
      get masterLog(): string {
        return masterOut.text();
      },
      workerLog: (host: string): string => workers.get(host)?.out.text() ?? '',
      exitCode: (host: string): number | null | undefined => workers.get(host)?.exit?.code,
      exited: async (host: string, withinMs: number): Promise<{ code: number | null; at: number }> => {
        await waitFor(() => workers.get(host)?.exit !== undefined, withinMs, () => `${host} did not stop within ${withinMs} ms:\n${run.workerLog(host)}`);
        return workers.get(host)?.exit as { code: number | null; at: number };
      },
      waitForLog: (re: RegExp, ms: number) => waitFor(() => re.test(masterOut.text()), ms, () => `no ${re} in the master's log:\n${masterOut.text()}`),
      /** Waits until `host` runs a map attempt, and returns its id. */
      runningAttemptOn: async (host: string): Promise<string> => {
        let id: string | undefined;
        await waitFor(
          () => {
            id = runningAttempt(statusFile, host);
            return id !== undefined;
          },
          30_000,
          () => `${host} never ran a map attempt:\n${masterOut.text()}`,
        );
        return id as string;
      },
      /** What must hold after every run, faults or not. */
      check: (): void => {
        assert.deepEqual(readParts(out), expected, 'output differs from the fault-free local run');
        assert.ok(existsSync(join(out, '_SUCCESS')));
        const commits = [...masterOut.text().matchAll(/ (map|reduce)-(\d{5}) committed by /g)].map((m) => `${m[1]}-${m[2]}`);
        assert.equal(commits.length, MAPS + REDUCERS, `expected each of ${MAPS + REDUCERS} tasks committed once:\n${commits.join('\n')}`);
        assert.equal(new Set(commits).size, MAPS + REDUCERS, 'a task was committed twice');
        const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { state: string; summary: { counters: Record<string, number> } };
        assert.equal(status.state, 'succeeded');
        // Counters are summed over committed attempts only: every input line counted exactly once.
        assert.equal(status.summary.counters['map input records'], totalLines);
      },
    };
    return run;
  }
});

function runningAttempt(statusFile: string, worker: string): string | undefined {
  let status: { snapshot?: { tasks: { kind: string; attempts: { id: string; worker: string; state: string }[] }[] } };
  try {
    status = JSON.parse(readFileSync(statusFile, 'utf8')) as typeof status;
  } catch {
    return undefined;
  }
  for (const t of status.snapshot?.tasks ?? []) {
    if (t.kind !== 'map') continue;
    for (const a of t.attempts) if (a.worker === worker && a.state === 'running') return a.id;
  }
  return undefined;
}

function collect(proc: ChildProcess): { text: () => string } {
  let text = '';
  proc.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text };
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}


