// Many small files (Hadoop's CombineFileInputFormat): packed into splits of up to the split size,
// read in order by one map task each, with ctx.file and ctx.offset right for every record; the
// real CLI and workers against the sequential oracle.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { planSplits, splitPieces } from '../src/input/splits.ts';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';
import { runOracle } from './oracle.ts';
import { prng } from './prng.ts';

const WHERE = join(ROOT, 'test', 'jobs', 'where.mjs');
let dir: string;
before(() => {
  dir = tempDir('torpedo-small-files-');
});
after(() => removeDir(dir));

function run(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 300_000 });
}

/** `n` small files in nested directories, some without a final newline, some empty. */
function smallFiles(name: string, n: number, seed: number): string {
  const root = join(dir, name);
  const rand = prng(seed);
  for (let i = 0; i < n; i++) {
    const sub = join(root, `d${i % 37}`);
    if (i < 37) mkdirSync(sub, { recursive: true });
    const lines = Array.from({ length: Math.floor(rand() * 4) }, () => `word${Math.floor(rand() * 50)} other${Math.floor(rand() * 9)} café`);
    writeFileSync(join(sub, `f${i}.txt`), lines.join('\n') + (rand() < 0.7 && lines.length > 0 ? '\n' : ''));
  }
  return root;
}

test('planning packs small files in order up to the split size; a large file is still cut', () => {
  const files = [
    { path: 'a', size: 30, mtimeMs: 0 },
    { path: 'b', size: 30, mtimeMs: 0 },
    { path: 'c', size: 0, mtimeMs: 0 },
    { path: 'd', size: 50, mtimeMs: 0 },
    { path: 'big', size: 250, mtimeMs: 0 },
    { path: 'e', size: 99, mtimeMs: 0 },
  ];
  const splits = planSplits(files, 100);
  assert.deepEqual(
    splits.map((s) => splitPieces(s).map((p) => `${p.file}[${p.start},${p.end})`).join(' ')),
    ['a[0,30) b[0,30)', 'd[0,50)', 'big[0,100)', 'big[100,200)', 'big[200,250)', 'e[0,99)'],
  );
});

test('20,000 small files: a few map tasks, and ctx.file and ctx.offset right for every record', async () => {
  const input = smallFiles('many', 20_000, 1);
  const out = join(dir, 'out-many');
  const r = await run([WHERE, '--input', input, '--output', out, '--reducers', '3', '--split-size', '256KB']);
  assert.equal(r.code, 0, r.stderr);
  const s = jsonSummary(r);
  assert.ok(s.phases.map.tasks >= 2 && s.phases.map.tasks <= 10, `${s.phases.map.tasks} map tasks`);
  const job = (await import(WHERE)).default;
  assert.deepEqual(readParts(out), await runOracle(job, [input], 3));
});

test('--maps M gives about M map tasks across files; wordcount is the same however they are packed', async () => {
  const input = smallFiles('some', 3000, 2);
  const outs: string[][] = [];
  for (const maps of [1, 4, 16]) {
    const out = join(dir, `out-maps-${maps}`);
    const r = await run(['wordcount', '--input', input, '--output', out, '--reducers', '2', '--maps', String(maps)]);
    assert.equal(r.code, 0, r.stderr);
    const tasks = jsonSummary(r).phases.map.tasks;
    assert.ok(tasks >= maps && tasks <= maps + 1, `--maps ${maps}: ${tasks} map tasks`);
    outs.push(readParts(out));
  }
  assert.deepEqual(outs[1], outs[0]);
  assert.deepEqual(outs[2], outs[0]);
});

test('a packed split of mixed codecs and formats reads each file as its own kind', async () => {
  const input = join(dir, 'mixed');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), 'alpha beta\n');
  writeFileSync(join(input, 'b.txt.gz'), execFileSync('gzip', ['-c'], { input: 'beta gamma\n' }));
  writeFileSync(join(input, 'c.txt.zst'), execFileSync('zstd', ['-c'], { input: 'gamma delta' }));
  writeFileSync(join(input, 'd.txt.bz2'), execFileSync('bzip2', ['-c'], { input: 'delta alpha\n' }));
  const out = join(dir, 'out-mixed');
  const r = await run([WHERE, '--input', input, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonSummary(r).phases.map.tasks, 1);
  assert.deepEqual(readParts(out), [
    [`${input}/a.txt:00000000\talpha beta`, `${input}/b.txt.gz:00000000\tbeta gamma`, `${input}/c.txt.zst:00000000\tgamma delta`, `${input}/d.txt.bz2:00000000\tdelta alpha`].join('\n') + '\n',
  ]);
});

test('--skip-bad-records in a packed split skips only the bad record, not those at its offset in other files', async () => {
  const input = join(dir, 'poisoned');
  mkdirSync(input);
  for (let i = 0; i < 10; i++) writeFileSync(join(input, `f${i}.txt`), i === 6 ? 'POISON\nafter\n' : `first${i}\nsecond${i}\n`);
  const out = join(dir, 'out-poisoned');
  const r = await run([join(ROOT, 'test', 'jobs', 'throws.mjs'), '--input', input, '--output', out, '--skip-bad-records', '--max-attempts', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonSummary(r).phases.map.tasks, 1);
  const keys = readParts(out).join('').trim().split('\n').map((l) => l.split('\t')[0]);
  assert.deepEqual(keys, [...Array.from({ length: 9 }, (_, k) => k + (k >= 6 ? 1 : 0)).flatMap((i) => [`first${i}`, `second${i}`]), 'after'].sort());
  assert.equal(jsonSummary(r).counters['skipped records'], 1);
});

test('a streaming mapper reads the files of a packed split one after another, each ending with a newline', async () => {
  const input = join(dir, 'stream');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), 'one\ntwo');
  writeFileSync(join(input, 'b.txt'), 'three\n');
  writeFileSync(join(input, 'c.txt'), 'four');
  const out = join(dir, 'out-stream');
  const r = await run(['--mapper', 'cat', '--reducer', 'cat', '--input', input, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(out).join('').split('\n').filter(Boolean).map((l) => l.replace(/\t$/, '')).sort(), ['four', 'one', 'three', 'two']);
});
