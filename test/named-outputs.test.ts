// Named outputs (emit.to, Hadoop's MultipleOutputs): NAME-r-NNNNN beside part-r-NNNNN from
// reduce, NAME-m-NNNNN from the map of a map-only job; in _SUCCESS, byte-identical run to run,
// finished by --resume after a crash in the job commit.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { BIN, jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';
import { startTestManager } from './support/manager-harness.ts';

const ETL = join(ROOT, 'test', 'jobs', 'etl.mjs');
let dir: string;
let input: string;
let rows: string[];

before(() => {
  dir = tempDir('torpedo-named-');
  input = join(dir, 'sales.txt'); // not .csv: the job splits the lines itself
  const rand = prng(9);
  rows = Array.from({ length: 5000 }, (_, i) => (i % 41 === 0 ? `broken row ${i}` : `u${Math.floor(rand() * 300)},${Math.floor(rand() * 60)}`));
  writeFileSync(input, `${rows.join('\n')}\n`);
});
after(() => removeDir(dir));

/** Every file of an output but _SUCCESS and _logs: name → bytes. */
function files(out: string): Record<string, string> {
  return Object.fromEntries(readdirSync(out).filter((f) => !f.startsWith('_')).sort().map((f) => [f, readFileSync(join(out, f), 'latin1')]));
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

test('from reduce: NAME-r-NNNNN beside the parts, in the manifest, the same bytes every run', async () => {
  const outs = [join(dir, 'out-1'), join(dir, 'out-2')];
  for (const [i, out] of outs.entries()) {
    const r = await runCli(['run', ETL, '--input', input, '--output', out, '--reducers', '3', '--split-size', '8KB', '--workers', String(i + 1), '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
  }
  const [a, b] = outs.map(files);
  assert.deepEqual(a, b, 'byte-identical whatever the workers');
  const names = Object.keys(a!);
  assert.ok(names.includes('part-r-00000') && names.some((n) => /^big-r-0000\d$/.test(n)) && names.some((n) => /^rejected-r-0000\d$/.test(n)), names.join(' '));
  // The parts are the job's as the oracle computes them (named outputs aside).
  const oracle = await runOracle((await import(ETL)).default as Job, [input], 3);
  assert.deepEqual(readParts(outs[0]!).map((p) => lines(p).filter((l) => !l.startsWith('~')).join('\n')), oracle.map((p) => lines(p).filter((l) => !l.startsWith('~')).join('\n')));
  // big: every sum of 100 or more, in its key's partition; rejected: every broken row.
  const sums = lines(readParts(outs[0]!).join('')).map((l) => l.split('\t') as [string, string]);
  const big = names.filter((n) => n.startsWith('big-')).flatMap((n) => lines(a![n]!));
  assert.deepEqual(big.sort(), sums.filter(([, s]) => Number(s) >= 100).map(([k, s]) => `${k}\t${s}`).sort());
  const rejected = names.filter((n) => n.startsWith('rejected-')).flatMap((n) => lines(a![n]!).map((l) => l.split('\t')[1]));
  assert.deepEqual(rejected.sort(), rows.filter((r) => r.startsWith('broken')).sort());
  const manifest = JSON.parse(readFileSync(join(outs[0]!, '_SUCCESS'), 'utf8')) as { parts: { name: string }[] };
  assert.deepEqual(manifest.parts.map((p) => p.name).sort(), names);
  const v = await runCli(['verify', outs[0]!]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('from the map of a map-only job: NAME-m-NNNNN, compressed as the parts are', async () => {
  const out = join(dir, 'out-map');
  const r = await runCli(['run', ETL, '--input', input, '--output', out, '--reducers', '0', '--split-size', '8KB', '--output-compression', 'gzip', '--no-progress', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const names = Object.keys(files(out));
  const tasks = jsonSummary(r).phases.map.tasks;
  assert.equal(names.filter((n) => /^part-m-\d{5}\.gz$/.test(n)).length, tasks);
  const good = names.filter((n) => /^good-m-\d{5}\.gz$/.test(n)).flatMap((n) => lines(execFileSync('zcat', [join(out, n)], { encoding: 'utf8' })));
  assert.equal(good.length, rows.filter((r) => !r.startsWith('broken')).length);
  assert.deepEqual(good, rows.filter((r) => !r.startsWith('broken')).map((r) => r.replace(',', '\t')), 'in input order');
  assert.equal((await runCli(['verify', out])).code, 0);
});

test('emit.to where it cannot write, or with a bad name, fails with what to do', async () => {
  const job = join(dir, 'bad.mjs');
  writeFileSync(job, 'export default { map(line, emit) { emit.to("side", line, 1); }, reduce(k, vs, emit) { emit(k, 1); } };\n');
  const r = await runCli(['run', job, '--input', input, '--output', join(dir, 'out-bad'), '--max-attempts', '1', '--no-progress']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /emit\.to\("side", …\) in the map of a job with reducers: named outputs are written by reduce, or by the map of a map-only job \(--reducers 0\)/);
  const badName = join(dir, 'bad-name.mjs');
  writeFileSync(badName, 'export default { map(line, emit) { emit(line, 1); }, reduce(k, vs, emit) { emit.to("no-dashes", k, 1); } };\n');
  const n = await runCli(['run', badName, '--input', input, '--output', join(dir, 'out-bad-name'), '--max-attempts', '1', '--no-progress']);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /a named output's name is letters and digits/);
});

test('a crash in the middle of the job commit: --resume publishes every part and named output', async () => {
  const out = join(dir, 'out-crash');
  const args = ['run', ETL, '--input', input, '--output', out, '--reducers', '3', '--split-size', '8KB', '--json', '--no-progress'];
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', detached: true, env: { ...process.env, TORPEDO_TEST_CRASH_IN_COMMIT: '3' } });
  await new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    process.kill(-(child.pid as number), 'SIGKILL');
  } catch {
    // none left
  }
  assert.ok(!existsSync(join(out, '_SUCCESS')), 'the commit did not finish');
  const r = await runCli([...args, '--resume']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(files(out), files(join(dir, 'out-1')));
  assert.equal((await runCli(['verify', out])).code, 0);
});

test('in the manager: the job lists its named outputs, and each downloads as a part does', async () => {
  const m = await startTestManager('pglite');
  try {
    const token = await m.newUser('nora');
    assert.equal((await m.call('POST', '/datasets?name=sales', { token, body: readFileSync(input) })).status, 201);
    const job = await m.call('POST', '/jobs', { token, json: { code: readFileSync(ETL, 'utf8'), language: 'js', inputs: ['sales'], reducers: 2 } });
    assert.equal(job.status, 201, job.body);
    const done = await m.waitForJob(token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.outputParts, ['part-r-00000', 'part-r-00001']);
    assert.ok(done.namedOutputs.some((n: string) => n.startsWith('rejected-r-')) && done.namedOutputs.some((n: string) => n.startsWith('big-r-')), JSON.stringify(done.namedOutputs));
    const rejected = await Promise.all(done.namedOutputs.filter((n: string) => n.startsWith('rejected-')).map(async (n: string) => (await m.call('GET', `/jobs/${job.json.id}/output/${n}`, { token })).body));
    assert.deepEqual(lines(rejected.join('')).map((l) => l.split('\t')[1]).sort(), rows.filter((r) => r.startsWith('broken')).sort());
    assert.doesNotMatch((await m.call('GET', `/jobs/${job.json.id}/output`, { token })).body, /broken/, 'the output is the parts only');
  } finally {
    await m.close();
  }
});
