import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

/**
 * Issue 20: leases, timeouts and backup choices run on a monotonic clock, so that a step of the
 * wall clock (NTP, a resumed VM, an operator) can neither keep a hung worker's lease alive nor
 * expire every healthy lease at once.
 *
 * What is stepped: every process of the job — `torpedo master` and its local workers (started
 * with --no-sandbox, so that they inherit the environment; bubblewrap would give them a clean one)
 * — runs under libfaketime (LD_PRELOAD), whose wall clock is the real one plus the offset in a
 * timestamp file, read on every call (FAKETIME_NO_CACHE). The monotonic clocks are left alone
 * (FAKETIME_DONT_FAKE_MONOTONIC), as on a real machine whose time is stepped. The job
 * (jobs/steps-clock-and-hangs.mjs) writes the step (-1h or +1h) into that file from the first
 * attempt of the task holding the HANG record, and then spins: from that moment on all of the
 * job's processes see the stepped time, and only the hung attempt's lease running out can get
 * its task re-run (no backup tasks, no task timeout).
 *
 * The master's final status file (--status-file) gives each attempt's start and end on the
 * master's clock: the hung attempt must be lost after the lease time and not much later. On a
 * wall clock its lease would not expire after a step back (the attempt would end only when the
 * spinning worker ends itself, 30 s on), and after a step forward it would expire at once, with
 * an hour's duration. A healthy worker with a task in
 * flight at the step must not give up on its master either (worker.ts compares the time since
 * the master last answered with its give-up time): exactly one attempt of the job is lost.
 */
const JOB = join(ROOT, 'test', 'jobs', 'steps-clock-and-hangs.mjs');
const LEASE_MS = 2000;
/** Maps (one per input file); the HANG file is the third, so that a healthy map runs beside it. */
const FILES = 6;
const HANG_FILE = 2;
/** Each healthy record waits this long: a map takes 1.5 s, several heartbeats and expiry checks. */
const PAUSE_MS = 150;
const LINES_PER_FILE = 10;
const WORDS = ['lease', 'clock', 'step', 'hour', 'worker', 'master', 'monotonic', 'wall'];

/** libfaketime's library (Debian's package libfaketime), or undefined where it is not installed. */
function findLibfaketime(): string | undefined {
  const dirs = ['/usr/lib', ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d))];
  return dirs.map((d) => join(d, 'faketime', 'libfaketime.so.1')).find((p) => existsSync(p));
}

/** Why libfaketime cannot step a node process's wall clock here, or false when it can. */
function whyNoFaketime(lib: string | undefined): string | false {
  if (lib === undefined) return 'libfaketime is not installed (apt-get install libfaketime; .ci/run installs it)';
  const probe = spawnSync(process.execPath, ['-e', 'console.log(Date.now())'], {
    env: { ...process.env, LD_PRELOAD: lib, FAKETIME: '-1h', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `node does not run under libfaketime: ${probe.stderr.trim()}`;
  const offset = Number(probe.stdout.trim()) - Date.now();
  if (!(Math.abs(offset + 3_600_000) < 60_000)) return `libfaketime does not step node's Date.now() here (offset ${offset} ms)`;
  return false;
}

const LIB = findLibfaketime();
const skip = whyNoFaketime(LIB);

let dir: string;
let input: string;
/** The output of the same job on an unstepped clock. */
let clean: Buffer[];

/** The part files of an output directory, in order, as bytes. */
function partBytes(out: string): Buffer[] {
  return readdirSync(out)
    .filter((f) => f.startsWith('part-r-'))
    .sort()
    .map((f) => readFileSync(join(out, f)));
}

/** Line `seed` of the input: five words, the same on every run, so that outputs can be compared. */
function words(seed: number): string {
  return Array.from({ length: 5 }, (_, i) => WORDS[(seed * 7 + i * 3) % WORDS.length]).join(' ');
}

before(async () => {
  if (skip !== false) return;
  dir = tempDir('torpedo-stepped-clock-');
  input = join(dir, 'input');
  mkdirSync(input);
  for (let f = 0; f < FILES; f++) {
    // Padded (spaces are no words) so that each file is larger than the 1 KiB split size: files
    // are tasks of their own, not packed together (small files share a split: data-formats.md).
    const lines = Array.from({ length: LINES_PER_FILE }, (_, i) => `${words(f * LINES_PER_FILE + i)}${' '.repeat(120)}`);
    if (f === HANG_FILE) lines[0] = 'this record HANGs its first attempt';
    writeFileSync(join(input, `text-${f}.txt`), `${lines.join('\n')}\n`);
  }
  const out = join(dir, 'clean');
  const r = await runCli(['run', JOB, ...jobArgs(out, join(dir, 'unread-clock'), '-1h'), '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonSummary(r)['phases']['map']['lostAttempts'], 1, 'the hung attempt is lost on a true clock too');
  clean = partBytes(out);
});
after(() => {
  if (dir !== undefined) removeDir(dir);
});

/** The job's flags, for `torpedo run` (and --prepare-only). */
function jobArgs(out: string, clockFile: string, step: string): string[] {
  return [
    '--input', input, '--output', out, '--reducers', '2', '--split-size', '1KiB', '--workers', '2',
    '--lease-timeout', String(LEASE_MS), '--no-backup-tasks', '--no-sandbox', '--no-typecheck', '--no-progress',
    '--param', `clockFile=${clockFile}`, '--param', `step=${step}`, '--param', `pauseMs=${PAUSE_MS}`,
  ];
}

interface AttemptStatus {
  readonly id: string;
  readonly state: string;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly error?: string;
}

/**
 * Prepares the job, then runs its master (and so its workers) under libfaketime with the wall
 * clock at the real time until the job steps it by `step`. Returns the summary, every attempt
 * from the master's final status file, and the output.
 */
async function runStepped(name: string, step: string): Promise<{ summary: Record<string, any>; attempts: AttemptStatus[]; out: string; stepped: string }> {
  const out = join(dir, name);
  const clockFile = join(dir, `${name}-clock`);
  writeFileSync(clockFile, '+0\n');
  const prep = await runCli(['run', JOB, ...jobArgs(out, clockFile, step), '--prepare-only']);
  assert.equal(prep.code, 0, prep.stderr);
  const statusFile = join(dir, `${name}-status.json`);
  const faketime = { LD_PRELOAD: LIB, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  const r = await runCli(['master', '--job', prep.stdout.trim(), '--status-file', statusFile, '--json'], { env: faketime, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { snapshot: { tasks: { attempts: AttemptStatus[] }[] } };
  return { summary: jsonSummary(r), attempts: status.snapshot.tasks.flatMap((t) => t.attempts), out, stepped: readFileSync(clockFile, 'utf8').trim() };
}

/** What both steps must leave: one lost attempt, lost after about the lease time; the clean output. */
function checkRun(run: Awaited<ReturnType<typeof runStepped>>, step: string): void {
  assert.equal(run.stepped, step, 'the job stepped the clock');
  assert.equal(run.summary['status'], 'succeeded');
  const lost = run.attempts.filter((a) => a.state === 'lost');
  assert.equal(lost.length, 1, `only the hung attempt is lost: ${JSON.stringify(lost)}`);
  const [hung] = lost;
  assert.match(hung?.error ?? '', new RegExp(`no heartbeat from w\\d+ for ${LEASE_MS} ms`), 'lost by its lease expiring, not by its worker ending itself 30 s on');
  const ms = (hung?.endedAt ?? Infinity) - (hung?.startedAt ?? 0);
  // The lease runs from the attempt's start (it hangs on its first record) and is looked at every
  // half lease (at most every second): lost between LEASE_MS and about LEASE_MS + 1 s.
  assert.ok(ms >= LEASE_MS && ms < LEASE_MS + 3000, `the hung attempt was lost after ${ms} ms, not about ${LEASE_MS} ms`);
  for (const [phase, p] of Object.entries(run.summary['phases'] as Record<string, Record<string, number>>)) {
    assert.equal(p['lostAttempts'], phase === 'map' ? 1 : 0, `${phase}: lost attempts`);
    assert.equal(p['failedAttempts'], 0, `${phase}: failed attempts`);
  }
  // The master's own run time, on the same clock as its leases.
  assert.ok(run.summary['wallMs'] > 0 && run.summary['wallMs'] < 60_000, `wallMs ${run.summary['wallMs']}`);
  assert.deepEqual(partBytes(run.out), clean, 'byte-identical to the run on a true clock');
}

describe('a stepped wall clock (libfaketime) under the master and its workers', { skip }, () => {
  it('stepped back an hour mid-job: the hung attempt still loses its lease after the lease time, and the job succeeds', async () => {
    checkRun(await runStepped('back', '-1h'), '-1h');
  });

  it('stepped forward an hour mid-job: no healthy lease expires at once, no worker gives up; only the hung attempt is lost, on time', async () => {
    checkRun(await runStepped('forward', '+1h'), '+1h');
  });
});
