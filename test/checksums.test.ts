import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { readFooter } from '../src/shuffle/run-file.ts';
import { BIN, jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';

/**
 * Damaged intermediate data is loud, never published: a committed map output is changed after it
 * was written and before any reduce reads it (its job's last map waits 3 s on the record WAIT),
 * and the job must re-run that map and succeed with the right output, or fail, never succeed
 * with wrong parts. The bytes are changed for real, on disk, by this test.
 */
let dir: string;
let input: string;
let expected: string[];
const JOB = join(ROOT, 'test', 'jobs', 'waits-on-last-map.mjs');
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];

before(async () => {
  dir = tempDir('torpedo-checksums-');
  input = join(dir, 'in.txt');
  const rand = prng(20);
  const lines: string[] = [];
  for (let i = 0; i < 30_000; i++) lines.push(Array.from({ length: 5 }, () => `${WORDS[Math.floor(rand() * WORDS.length)]}${Math.floor(rand() * 400)}`).join(' '));
  lines.push('WAIT');
  writeFileSync(input, `${lines.join('\n')}\n`);
  expected = await runOracle((await import(JOB)).default as Job, [input], 2);
});
after(() => removeDir(dir));

const flags = (out: string): string[] => ['run', JOB, '--input', input, '--output', out, '--json', '--split-size', '256KB', '--reducers', '2', '--workers', '2'];

/** The byte offsets of a run file's pairs (its segments, not its index). */
function segmentBytes(path: string): number {
  const segs = readFooter(path).segments;
  const last = segs[segs.length - 1];
  return last === undefined ? 0 : last.offset + last.length;
}

/** Changes one byte in place: the first at or after `from` that `pick` accepts, to `to(byte)`. */
function changeByte(path: string, from: number, pick: (b: number) => boolean, to: (b: number) => number): void {
  const data = readFileSync(path);
  for (let i = from; i < segmentBytes(path); i++) {
    if (pick(data[i] as number)) {
      data[i] = to(data[i] as number);
      writeFileSync(path, data);
      return;
    }
  }
  throw new Error(`no byte to change in ${path}`);
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isLetter = (b: number): boolean => b >= 0x61 && b <= 0x7a;

const DAMAGE: Record<string, (path: string) => void> = {
  'one digit of a count': (path) => changeByte(path, Math.floor(segmentBytes(path) / 2), isDigit, (b) => (b === 0x39 ? 0x30 : b + 1)),
  'one letter of a key': (path) => changeByte(path, Math.floor(segmentBytes(path) / 3), isLetter, (b) => (b === 0x7a ? 0x61 : b + 1)),
  'three random bit flips': (path) => {
    const data = readFileSync(path);
    const rand = prng(7);
    for (let i = 0; i < 3; i++) {
      const at = Math.floor(rand() * segmentBytes(path));
      data[at] = (data[at] as number) ^ (1 << Math.floor(rand() * 8));
    }
    writeFileSync(path, data);
  },
  'cut off in the middle': (path) => truncateSync(path, Math.floor(segmentBytes(path) / 2)),
  'deleted': (path) => unlinkSync(path),
};

/** Starts the job, waits for map-00000's committed output, damages it while the last map waits. */
async function runDamaged(out: string, damage: (path: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const target = join(out, '_temporary', 'map', 'map-00000.run');
  const deadline = Date.now() + 60_000;
  while (!existsSync(target)) {
    assert.ok(Date.now() < deadline, `no committed map output: ${stderr}`);
    await sleep(10);
  }
  damage(target);
  return { code: await closed, stdout, stderr };
}

describe('a map output damaged before the reduce reads it', () => {
  for (const [name, damage] of Object.entries(DAMAGE)) {
    it(`${name}: the map is run again, the job succeeds, the output is right, the counter says so`, async () => {
      const out = join(dir, `out-${name.replaceAll(' ', '-')}`);
      const r = await runDamaged(out, damage);
      assert.equal(r.code, 0, r.stderr);
      const s = jsonSummary(r);
      assert.equal(s['status'], 'succeeded');
      assert.deepEqual(readParts(out), expected);
      assert.equal(s['counters']['map outputs re-run'], 1, JSON.stringify(s['counters']));
      assert.equal(s['counters']['map input records'], 30_001, 'map-00000 is counted once, though it committed twice');
    });
  }
});

describe('--resume after a crash that cut a map output short', () => {
  it('the damaged output is not adopted: its map runs again, the rest are reused', async () => {
    const out = join(dir, 'out-resume');
    const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: 'ignore', detached: true });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const target = join(out, '_temporary', 'map', 'map-00000.run');
    while (!existsSync(target)) await sleep(10);
    await sleep(200);
    process.kill(-(child.pid as number), 'SIGKILL');
    await closed;
    truncateSync(target, Math.floor(segmentBytes(target) / 2));
    const r = await runCli([...flags(out), '--resume']);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.deepEqual(readParts(out), expected);
    assert.ok(s['phases']['map']['attempts'] >= 2, 'map-00000 and the waiting map ran again');
    assert.ok(s['phases']['map']['reusedTasks'] < s['phases']['map']['tasks']);
  });
});
