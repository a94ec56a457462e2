import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BIN, readParts, removeDir, ROOT, tempDir } from './helpers.ts';

/** What runs: one master (the CLI) and W worker processes that `ps` shows as `torpedo worker`. */
let dir: string;
let input: string;
const SLOW = join(ROOT, 'test', 'jobs', 'slow-map.mjs');

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  writeFileSync(input, Array.from({ length: 30 }, (_, i) => `line ${String(i).padStart(2, '0')}`).join('\n') + '\n');
});
after(() => removeDir(dir));

/** `torpedo worker` processes started by the CLI process `parent` (not other jobs on the machine). */
function workerPids(parent: number): number[] {
  // ps exits with 1 when no process matches.
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    // A confined worker is started through bubblewrap and reaches its master through a socket.
    .filter((l) => /torpedo worker --master (http:\/\/127\.0\.0\.1:\d+|unix:\S+) /.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function startJob(out: string, workers: number) {
  const child = spawn(process.execPath, [BIN, 'run', SLOW, '--input', input, '--output', out, '--split-size', '40B', '--workers', String(workers), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; summary: Record<string, any> }>((resolve) =>
    child.on('close', (code) => resolve({ code, summary: JSON.parse(stdout.trim().split('\n').pop() || 'null') ?? { stderr } })),
  );
  return { done, pid: child.pid as number };
}

async function waitForWorkers(parent: number, n: number, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = workerPids(parent);
    if (pids.length >= n || Date.now() > deadline) return pids;
    await sleep(50);
  }
}

describe('worker processes', () => {
  it('W workers run as `torpedo worker` processes and are gone after the job', async () => {
    const out = join(dir, 'out-ps');
    const job = startJob(out, 3);
    const pids = await waitForWorkers(job.pid, 3);
    assert.equal(pids.length, 3, 'three `torpedo worker` processes');
    const { code, summary } = await job.done;
    assert.equal(code, 0, JSON.stringify(summary));
    assert.equal(summary['status'], 'succeeded');
    const alive = execFileSync('ps', ['-eo', 'pid='], { encoding: 'utf8' }).split('\n').map(Number);
    for (const pid of pids) assert.ok(!alive.includes(pid), `worker ${pid} exited`);
    assert.equal(readParts(out).join('').split('\n').filter(Boolean).length, 30);
  });

  it('a worker killed with SIGKILL mid-job is replaced, its task re-run, and the output is unchanged', async () => {
    const out = join(dir, 'out-kill');
    const job = startJob(out, 2);
    const pids = await waitForWorkers(job.pid, 2);
    await sleep(700); // let it get into a map task
    process.kill(pids[0] as number, 'SIGKILL');
    const { code, summary } = await job.done;
    assert.equal(code, 0, JSON.stringify(summary));
    assert.ok(summary['phases']['map']['lostAttempts'] + summary['phases']['reduce']['lostAttempts'] >= 1, 'the killed attempt is counted as lost');
    const lines = readParts(out).join('').split('\n').filter(Boolean);
    assert.deepEqual(lines, Array.from({ length: 30 }, (_, i) => `line ${String(i).padStart(2, '0')}`));
  });
});
