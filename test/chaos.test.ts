import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { BIN, readParts, removeDir, ROOT, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';

/** Workers killed with SIGKILL every 0.5–1 s through a whole job: the output must not change. */
let dir: string;
let input: string;
const JOB = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
const WORDS = ['map', 'reduce', 'shuffle', 'worker', 'master', 'lease', 'commit', 'spill', 'merge', 'torpedo', 'café', 'naïve'];

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  const rand = prng(2024);
  const lines: string[] = [];
  for (let i = 0; i < 16_000; i++) lines.push(Array.from({ length: 8 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' '));
  writeFileSync(input, `${lines.join('\n')}\n`);
});
after(() => removeDir(dir));

function workerPids(): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    // Confined workers reach their master through a socket (unix:…), others over loopback.
    .filter((l) => l.includes('torpedo worker --master '))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('chaos', () => {
  it('kill a random worker every 0.5–1 s: output identical to the oracle, lost attempts re-run', async () => {
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [BIN, 'run', JOB, '--input', input, '--output', out, '--json', '--split-size', '24KB', '--reducers', '3', '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let running = true;
    void closed.then(() => (running = false));
    const rand = prng(7);
    let kills = 0;
    const deadline = Date.now() + 60_000;
    while (running && Date.now() < deadline) {
      await sleep(500 + rand() * 500);
      const pids = workerPids();
      const victim = pids[Math.floor(rand() * pids.length)];
      if (running && victim !== undefined) {
        try {
          process.kill(victim, 'SIGKILL');
          kills++;
        } catch {
          // it had just exited
        }
      }
    }
    const code = await closed;
    assert.equal(code, 0, stdout);
    const summary = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, any>;
    assert.equal(summary['status'], 'succeeded');
    assert.ok(kills >= 3, `killed ${kills} workers`);
    const lost = summary['phases']['map']['lostAttempts'] + summary['phases']['reduce']['lostAttempts'];
    assert.ok(lost >= 1, `lost attempts: ${lost}`);
    const job = (await import(JOB)).default as Job;
    assert.deepEqual(readParts(out), await runOracle(job, [input], 3));
  });
});
