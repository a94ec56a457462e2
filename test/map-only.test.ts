// Map-only jobs (--reducers 0, Hadoop's map-only convention): each map task writes its pairs
// straight to part-m-NNNNN in input order, with no shuffle; the fault tolerance holds (worker
// kills, a master killed and --resume), with byte-identical output.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { BIN, jsonSummary, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { prng } from './prng.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

const UPPER = join(ROOT, 'test', 'jobs', 'upper.mjs');
const PACED = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
let dir: string;
let input: string;
let lines: string[];

before(() => {
  dir = tempDir('torpedo-map-only-');
  input = join(dir, 'in.txt');
  const rand = prng(17);
  lines = Array.from({ length: 12_000 }, (_, i) => (i % 97 === 0 ? '' : `line ${i} ${['alpha', 'beta', 'gamma', 'café'][Math.floor(rand() * 4)]}`));
  writeFileSync(input, `${lines.join('\n')}\n`);
});
after(() => removeDir(dir));

/** The names and the text of an output's map parts, in order. */
function mapParts(out: string): { names: string[]; text: string } {
  const names = readdirSync(out).filter((f) => f.startsWith('part-')).sort();
  return { names, text: names.map((f) => readFileSync(join(out, f), 'utf8')).join('') };
}

function workerPids(): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes('torpedo worker --master ')).map((l) => Number(l.trim().split(/\s+/)[0]));
}

test('--reducers 0: one part-m-NNNNN per map task, in input order, no reduce phase; reduce may be left out', async () => {
  const out = join(dir, 'out-upper');
  const r = await runCli(['run', UPPER, '--input', input, '--output', out, '--reducers', '0', '--split-size', '32KB', '--json', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  const s = jsonSummary(r);
  const { names, text } = mapParts(out);
  assert.equal(names.length, s.phases.map.tasks);
  assert.ok(names.length > 4);
  assert.deepEqual(names, Array.from({ length: names.length }, (_, m) => `part-m-${String(m).padStart(5, '0')}`));
  assert.equal(s.phases.reduce.tasks, 0);
  assert.equal(text, lines.filter((l) => l !== '').map((l) => `${l.toUpperCase()}\n`).join(''));
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`all ${names.length} parts ok`));
});

test('a job without reduce is refused unless it is map-only', async () => {
  const r = await runCli(['run', UPPER, '--input', input, '--output', join(dir, 'out-no-reduce'), '--no-progress']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /TORPEDO_ERR_JOB_SHAPE.*no `reduce` function.*--reducers 0/);
  assert.ok(!existsSync(join(dir, 'out-no-reduce')));
});

test('the built-in grep is map-only by default; --reducers still chooses', async () => {
  const out = join(dir, 'out-grep');
  const r = await runCli(['run', 'grep', '--input', input, '--output', out, '--param', 'pattern=café', '--split-size', '64KB', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  const { names, text } = mapParts(out);
  assert.ok(names.every((n) => n.startsWith('part-m-')) && names.length > 1, names.join(' '));
  const want = lines.flatMap((l, i) => (l.includes('café') ? [`${input}:${lines.slice(0, i).reduce((n, x) => n + Buffer.byteLength(x) + 1, 0)}\t${l}\n`] : [])).join('');
  assert.equal(text, want, 'matches in input order, with their offsets');
  const one = await runCli(['run', 'grep', '--input', input, '--output', join(dir, 'out-grep-1'), '--param', 'pattern=café', '--reducers', '1', '--no-progress']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(mapParts(join(dir, 'out-grep-1')).names, ['part-r-00000']);
});

test('compressed and formatted map parts: part-m-00000.gz of JSON lines, read back with zcat', async () => {
  const out = join(dir, 'out-gz');
  const r = await runCli(['run', UPPER, '--input', input, '--output', out, '--reducers', '0', '--output-compression', 'gzip', '--output-format', 'jsonl', '--split-size', '64KB', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  const { names } = mapParts(out);
  assert.ok(names.every((n) => /^part-m-\d{5}\.gz$/.test(n)), names.join(' '));
  const text = names.map((n) => execFileSync('zcat', [join(out, n)], { encoding: 'utf8' })).join('');
  assert.equal(text, lines.filter((l) => l !== '').map((l) => `${JSON.stringify({ key: l.toUpperCase(), value: null })}\n`).join(''));
  assert.equal((await runCli(['verify', out])).code, 0);
});

test('a streaming mapper with no reducer: its lines are the parts', async () => {
  const out = join(dir, 'out-stream');
  const r = await runCli(['run', '--mapper', 'grep gamma', '--reducers', '0', '--input', input, '--output', out, '--split-size', '64KB', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(mapParts(out).text, lines.filter((l) => l.includes('gamma')).map((l) => `${l}\n`).join(''));
});

describe('map-only fault tolerance', () => {
  const flags = (out: string): string[] => ['run', PACED, '--input', input, '--output', out, '--reducers', '0', '--split-size', '24KB', '--workers', '2', '--json', '--no-progress'];
  let clean: string;
  before(async () => {
    const out = join(dir, 'out-clean');
    const r = await runCli(flags(out));
    assert.equal(r.code, 0, r.stderr);
    clean = mapParts(out).text;
  });

  test('workers killed every 0.5–1 s: the same parts, byte for byte', async () => {
    const out = join(dir, 'out-chaos');
    const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let running = true;
    void closed.then(() => (running = false));
    const rand = prng(5);
    let kills = 0;
    while (running) {
      await sleep(500 + rand() * 500);
      const victim = workerPids()[Math.floor(rand() * 2)];
      if (!running || victim === undefined) continue;
      try {
        process.kill(victim, 'SIGKILL');
        kills++;
      } catch {
        // it had just exited
      }
    }
    assert.equal(await closed, 0, stdout);
    assert.ok(kills >= 2, `killed ${kills} workers`);
    assert.equal(mapParts(out).text, clean);
    assert.equal((await runCli(['verify', out])).code, 0);
  });

  test('the master killed mid-job: --resume reuses the committed map tasks and gives the same parts', async () => {
    const out = join(dir, 'out-resume');
    const child = spawn(process.execPath, [BIN, ...flags(out)], { stdio: 'ignore', detached: true });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await sleep(2500);
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // it had already finished
    }
    await closed;
    await sleep(500);
    const r = await runCli([...flags(out), '--resume']);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonSummary(r);
    assert.equal(s.status, 'succeeded');
    assert.ok(s.jobId === '' || s.phases.map.reusedTasks > 0, `reused ${s.phases?.map?.reusedTasks}`);
    assert.equal(mapParts(out).text, clean);
    assert.equal((await runCli(['verify', out])).code, 0);
  });
});

describe('map-only jobs in the manager', () => {
  let m: TestManager;
  let token: string;
  before(async () => {
    m = await startTestManager('pglite');
    token = await m.newUser('mo');
    assert.equal((await m.call('POST', '/datasets?name=in', { token, body: readFileSync(input) })).status, 201);
  });
  after(async () => {
    await m?.close();
  });

  test('reducers 0 through POST /jobs: the output is the map parts in order; grep is map-only there too', async () => {
    const code = readFileSync(UPPER, 'utf8');
    const job = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['in'], reducers: 0, splitSize: 65536 } });
    assert.equal(job.status, 201, job.body);
    const done = await m.waitForJob(token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.ok(done.outputParts.length > 1 && done.outputParts.every((p: string) => p.startsWith('part-m-')), JSON.stringify(done.outputParts));
    assert.equal((await m.call('GET', `/jobs/${job.json.id}/output`, { token })).body, lines.filter((l) => l !== '').map((l) => `${l.toUpperCase()}\n`).join(''));
    const noReduce = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['in'] } });
    assert.equal(noReduce.status, 400, noReduce.body);
    assert.match(noReduce.body, /no `reduce` function/);
    const grep = await m.call('POST', '/jobs', { token, json: { example: 'grep', inputs: ['in'], params: { pattern: 'beta' } } });
    assert.equal(grep.status, 201, grep.body);
    const g = await m.waitForJob(token, grep.json.id);
    assert.equal(g.status, 'succeeded', JSON.stringify(g.error));
    assert.ok(g.outputParts.every((p: string) => p.startsWith('part-m-')));
  });
});
