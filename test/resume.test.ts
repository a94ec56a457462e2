import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { BIN, jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';

/** The whole `torpedo run` process tree killed at random points; `--resume` finishes the job. */
let dir: string;
let input: string;
let expected: string[];
const JOB = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta'];

before(async () => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  const rand = prng(11);
  const lines: string[] = [];
  for (let i = 0; i < 12_000; i++) lines.push(Array.from({ length: 6 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' '));
  writeFileSync(input, `${lines.join('\n')}\n`);
  expected = await runOracle((await import(JOB)).default as Job, [input], 3);
});
after(() => removeDir(dir));

/** Waits (up to 10 s) until no process names `dir` on its command line: the job's workers are gone. */
async function processesGone(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  const named = (): boolean =>
    readdirSync('/proc').some((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false; // gone meanwhile
      }
    });
  while (named() && Date.now() < deadline) await sleep(50);
}

const flags = (out: string): string[] => ['run', JOB, '--input', input, '--output', out, '--json', '--split-size', '24KB', '--reducers', '3', '--workers', '2'];

describe('--resume after the master dies', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: kill the process group at a random moment, resume, same output, committed tasks reused`, async () => {
      const out = join(dir, `out-${seed}`);
      const rand = prng(seed);
      const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: 'ignore', detached: true });
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await sleep(200 + rand() * 2800);
      try {
        process.kill(-(child.pid as number), 'SIGKILL'); // master and workers: a crash of the machine, in effect
      } catch {
        // it had already finished
      }
      await closed;
      // Sandboxed workers run in sessions of their own, out of reach of the group kill; they die
      // with their master (bwrap --die-with-parent), and one may commit a map in that moment.
      await processesGone(out);
      const mapDir = join(out, '_temporary', 'map');
      const committedMaps = existsSync(mapDir) ? readdirSync(mapDir).filter((f) => f.endsWith('.run')).length : 0;
      const r = await runCli([...flags(out), '--resume']);
      assert.equal(r.code, 0, r.stderr);
      const s = jsonSummary(r);
      assert.equal(s['status'], 'succeeded');
      assert.deepEqual(readParts(out), expected);
      assert.ok(!existsSync(join(out, '_temporary')));
      if (s['jobId'] !== '') {
        // Every map output committed when we looked was reused (a worker that outlived its master
        // for a moment may have committed one more), and only the rest ran again.
        const reused = s['phases']['map']['reusedTasks'];
        assert.ok(reused >= committedMaps && reused <= committedMaps + 2, `every committed map output was reused (${committedMaps} seen, ${reused} reused)`);
        // Each task not reused ran once, plus its backups and its retries (an attempt failed or lost
        // on a loaded machine); none ran of a reused task.
        const m = s['phases']['map'];
        assert.equal(m['attempts'] - m['backupAttempts'] - m['failedAttempts'] - m['lostAttempts'], m['tasks'] - reused, `none of them ran again: ${JSON.stringify(m)}`);
      }
    });
  }

  it('a crash in the middle of the job commit (1 of 3 parts moved): --resume finishes it', async () => {
    const out = join(dir, 'out-commit');
    const child = spawn(process.execPath, [BIN, ...flags(out)], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, TORPEDO_TEST_CRASH_IN_COMMIT: '0' },
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c, signal) => resolve(signal === 'SIGKILL' ? -9 : c)));
    try {
      process.kill(-(child.pid as number), 'SIGKILL'); // the workers it left behind
    } catch {
      // none left
    }
    assert.equal(code, -9, 'the master died in the commit');
    assert.ok(existsSync(join(out, 'part-r-00000')) && !existsSync(join(out, 'part-r-00001')) && !existsSync(join(out, '_SUCCESS')));
    const r = await runCli([...flags(out), '--resume']);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.equal(s['phases']['map']['attempts'], 0, 'nothing re-run');
    assert.equal(s['phases']['reduce']['reusedTasks'], 3);
    assert.deepEqual(readParts(out), expected);
    assert.ok(existsSync(join(out, '_SUCCESS')) && !existsSync(join(out, '_temporary')));
  });

  it('refuses to resume with different flags, and a complete job resumes to success at once', async () => {
    const out = join(dir, 'out-flags');
    const first = await runCli(flags(out));
    assert.equal(first.code, 0, first.stderr);
    const again = await runCli([...flags(out), '--resume']);
    assert.equal(again.code, 0);
    assert.deepEqual(readParts(out), expected);
    const out2 = join(dir, 'out-mismatch');
    const child = spawn(process.execPath, [BIN, ...flags(out2)], { stdio: 'ignore', detached: true });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    while (!existsSync(join(out2, '_temporary', 'job.json'))) await sleep(20);
    process.kill(-(child.pid as number), 'SIGKILL');
    await closed;
    const bad = await runCli([...flags(out2).map((f) => (f === '3' ? '4' : f)), '--resume']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--resume: reducers is 4 but the interrupted job had 3/);
  });
});
