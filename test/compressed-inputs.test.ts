// Compressed inputs end to end: the real CLI and workers read .gz, .bz2 and .zst files (written
// by the codecs' own tools) and give exactly the part files of the same data uncompressed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jsonSummary, prose, readParts, removeDir, runCli, tempDir } from './helpers.ts';

let dir: string;
let text: Buffer;
/** The word count of `text` uncompressed: what every compressed copy must give. */
let plain: string[];

function compress(tool: string, data: Buffer | string, args: string[] = []): Buffer {
  return execFileSync(tool, [...args, '-c'], { input: data, maxBuffer: 1 << 30 });
}

function run(args: readonly string[]): ReturnType<typeof runCli> {
  return runCli(['run', ...args, '--no-progress', '--json'], { timeoutMs: 180_000 });
}

before(async () => {
  dir = tempDir('torpedo-compressed-');
  text = Buffer.from(prose(60_000));
  writeFileSync(join(dir, 'text.txt'), text);
  const r = await run(['wordcount', '--input', join(dir, 'text.txt'), '--output', join(dir, 'plain'), '--reducers', '2']);
  assert.equal(r.code, 0, r.stderr);
  plain = readParts(join(dir, 'plain'));
});
after(() => removeDir(dir));

test('every codec gives the part files of the uncompressed data; a bzip2 file runs as many map tasks', async () => {
  const half = text.indexOf('\n', text.length >> 1) + 1;
  const files: Record<string, Buffer> = {
    'text.gz': compress('gzip', text),
    // Two gzip members, as `cat a.gz b.gz` makes them; a reader that stops after the first loses half.
    'members.gz': Buffer.concat([compress('gzip', text.subarray(0, half)), compress('gzip', text.subarray(half))]),
    // Blocks of 100 kB: about 26 of them, so that 64 KB splits cut the file at many blocks.
    'text.bz2': compress('bzip2', text, ['-1']),
    'text.zst': compress('zstd', text),
  };
  for (const [name, data] of Object.entries(files)) {
    writeFileSync(join(dir, name), data);
    const out = join(dir, `out-${name}`);
    const r = await run(['wordcount', '--input', join(dir, name), '--output', out, '--reducers', '2', '--split-size', '64KB']);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.deepEqual(readParts(out), plain, name);
    const s = jsonSummary(r);
    assert.equal(s.counters['map input bytes'], text.length, `${name}: the decompressed bytes are the input`);
    if (name.endsWith('.bz2')) assert.ok(s.phases.map.tasks >= 4, `bzip2 split into ${s.phases.map.tasks} map tasks`);
    else assert.equal(s.phases.map.tasks, 1, `${name} is one split`);
  }
});

test('a directory of every codec, with empty and tiny compressed files', async () => {
  const input = join(dir, 'mixed');
  mkdirSync(input);
  const third = Math.floor(text.length / 3);
  const a = text.indexOf('\n', third) + 1;
  const b = text.indexOf('\n', 2 * third) + 1;
  writeFileSync(join(input, '1.gz'), compress('gzip', text.subarray(0, a)));
  writeFileSync(join(input, '2.bz2'), compress('bzip2', text.subarray(a, b)));
  writeFileSync(join(input, '3.zst'), compress('zstd', text.subarray(b)));
  writeFileSync(join(input, 'empty.gz'), compress('gzip', ''));
  writeFileSync(join(input, 'empty.bz2'), compress('bzip2', ''));
  writeFileSync(join(input, 'empty.zst'), compress('zstd', ''));
  writeFileSync(join(input, 'zero-bytes.gz'), '');
  const r = await run(['wordcount', '--input', input, '--output', join(dir, 'out-mixed'), '--reducers', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(join(dir, 'out-mixed')), plain);
  writeFileSync(join(dir, 'tiny.zst'), compress('zstd', 'x'));
  const t = await run(['wordcount', '--input', join(dir, 'tiny.zst'), '--output', join(dir, 'out-tiny')]);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(readParts(join(dir, 'out-tiny')), ['x\t1\n']);
});

test('ctx.offset counts bytes of the decompressed data, and ctx.file names the compressed file', async () => {
  const job = join(dir, 'offsets.mjs');
  writeFileSync(job, 'export default { map(line, emit, ctx) { emit(String(ctx.offset).padStart(12, "0"), `${ctx.file}|${line}`); }, reduce(key, values, emit) { for (const v of values) emit(key, v); } };\n');
  const small = Buffer.from(prose(500));
  const path = join(dir, 'small.txt.gz');
  writeFileSync(path, compress('gzip', small));
  const r = await run([job, '--input', path, '--output', join(dir, 'out-offsets')]);
  assert.equal(r.code, 0, r.stderr);
  const lines = readParts(join(dir, 'out-offsets')).join('').trimEnd().split('\n');
  assert.equal(lines.length, 500);
  for (const l of lines) {
    const [offset, value] = l.split('\t') as [string, string];
    const [file, line] = value.split('|') as [string, string];
    assert.equal(file, path);
    assert.equal(small.toString('utf8', Number(offset), Number(offset) + Buffer.byteLength(line)), line);
  }
});

test('truncated, damaged and foreign files fail at once, naming the file, the codec and the reason', async () => {
  const gz = compress('gzip', text);
  const bz = compress('bzip2', text, ['-1']);
  const zst = compress('zstd', text);
  const flipped = (b: Buffer): Buffer => {
    const c = Buffer.from(b);
    c[Math.floor(c.length / 2)]! ^= 0x04;
    return c;
  };
  const cases: [string, Buffer, RegExp][] = [
    ['cut.gz', gz.subarray(0, gz.length - 5000), /cut\.gz" is not valid gzip data.*truncated/],
    ['cut.bz2', bz.subarray(0, bz.length - 5000), /cut\.bz2" is not valid bzip2 data.*truncated/],
    ['cut.zst', zst.subarray(0, zst.length - 5000), /cut\.zst" is not valid zstd data.*truncated/],
    ['flip.gz', flipped(gz), /flip\.gz" is not valid gzip data/],
    ['flip.bz2', flipped(bz), /flip\.bz2" is not valid bzip2 data.*(CRC|does not decode)/],
    ['flip.zst', flipped(zst), /flip\.zst" is not valid zstd data/],
    ['plain.gz', text.subarray(0, 1000), /plain\.gz" is not valid gzip data.*--input-compression none/],
  ];
  for (const [name, data, message] of cases) {
    writeFileSync(join(dir, name), data);
    const r = await run(['wordcount', '--input', join(dir, name), '--output', join(dir, `out-${name}`), '--split-size', '64KB']);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /TORPEDO_ERR_CORRUPT_INPUT/, name);
    assert.match(r.stderr, message, name);
    const s = jsonSummary(r);
    assert.ok(s.phases.map.failedAttempts >= 1, `${name}: a map attempt failed`);
    assert.ok(s.phases.map.attempts <= s.phases.map.tasks, `${name}: not retried (${s.phases.map.attempts} attempts)`);
  }
});

test('streaming commands read the decompressed lines on stdin', async () => {
  const path = join(dir, 'stream.txt.gz');
  writeFileSync(path, compress('gzip', text));
  const args = ['--mapper', 'cat', '--reducer', 'wc -l', '--reducers', '1', '--split-size', '64KB'];
  const r = await run([...args, '--input', path, '--output', join(dir, 'out-stream')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readParts(join(dir, 'out-stream')).join('').trim(), '60000');
});

test('--input-compression none reads the bytes as they are, and a forced codec reads any name', async () => {
  const path = join(dir, 'noext');
  writeFileSync(path, compress('gzip', text));
  const forced = await run(['wordcount', '--input', path, '--output', join(dir, 'out-forced'), '--reducers', '2', '--input-compression', 'gzip']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(readParts(join(dir, 'out-forced')), plain);
  const raw = join(dir, 'raw.gz');
  writeFileSync(raw, readFileSync(join(dir, 'text.txt')));
  const none = await run(['wordcount', '--input', raw, '--output', join(dir, 'out-none'), '--reducers', '2', '--input-compression', 'none']);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(readParts(join(dir, 'out-none')), plain);
  const bad = await runCli(['run', 'wordcount', '--input', raw, '--output', join(dir, 'out-bad'), '--input-compression', 'lzma']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--input-compression.*(auto|gzip)/);
});
