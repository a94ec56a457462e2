import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { OutputWriter } from './output-writer.ts';

test('OutputWriter checksums what it writes: size and CRC-32 of the file, over many buffer flushes', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-output-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'part-r-00000');
  const out = new OutputWriter(path);
  // About 3 MiB: the 1 MiB buffer is flushed several times, and each way of writing is used.
  for (let i = 0; i < 100_000; i++) {
    out.write(`key-${i}`, i % 3 === 0 ? { n: i } : `välue ${i}`);
    const raw = Buffer.from(`raw-${i}\t"x"`);
    out.writeRaw(raw, 0, raw.indexOf(9), raw, raw.indexOf(9) + 1, raw.length);
    out.writeLine(Buffer.from(`line ${i}`), 0, `line ${i}`.length);
  }
  out.close();
  const bytes = readFileSync(path);
  assert.ok(bytes.length > 3 << 20, `${bytes.length} bytes`);
  assert.deepEqual(out.checksum(), { bytes: bytes.length, crc32: crc32(bytes).toString(16).padStart(8, '0') });
});

test('an empty part has size 0 and CRC 00000000', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-output-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = new OutputWriter(join(dir, 'part-r-00000'));
  out.close();
  assert.deepEqual(out.checksum(), { bytes: 0, crc32: '00000000' });
});

test('compressed, the checksum is of the stored bytes, and each codec reads back to the text written', async (t) => {
  const { loadPartCompressor } = await import('./part-compressor.ts');
  const { gunzipSync } = await import('node:zlib');
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-output-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = new OutputWriter(join(dir, 'plain'));
  const write = (out: OutputWriter): void => {
    for (let i = 0; i < 60_000; i++) out.write(`key-${i}`, { n: i, s: 'välue' });
    out.close();
  };
  write(text);
  const plain = readFileSync(join(dir, 'plain'));
  for (const [codec, cat] of [['gzip', 'zcat'], ['zstd', 'zstdcat'], ['bzip2', 'bzcat']] as const) {
    const factory = await loadPartCompressor(codec);
    const path = join(dir, codec);
    const out = new OutputWriter(path, { compressor: factory?.() });
    write(out);
    const stored = readFileSync(path);
    assert.ok(stored.length < plain.length / 2, `${codec}: ${stored.length} bytes`);
    assert.deepEqual(out.checksum(), { bytes: stored.length, crc32: crc32(stored).toString(16).padStart(8, '0') });
    assert.deepEqual(execFileSync(cat, [path], { maxBuffer: 64 << 20 }), plain, codec);
    if (codec === 'gzip') assert.deepEqual(gunzipSync(stored), plain);
  }
});

test('an empty compressed part is a valid empty file of its codec', async (t) => {
  const { loadPartCompressor } = await import('./part-compressor.ts');
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-output-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [codec, cat] of [['gzip', 'zcat'], ['zstd', 'zstdcat'], ['bzip2', 'bzcat']] as const) {
    const out = new OutputWriter(join(dir, codec), { compressor: (await loadPartCompressor(codec))?.() });
    out.close();
    assert.ok(out.checksum().bytes > 0, codec);
    assert.equal(execFileSync(cat, [join(dir, codec)]).length, 0, codec);
  }
});

test('jsonl and csv lines; the fast paths (raw pairs, sums, streaming lines) give the same records', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-output-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const jsonl = new OutputWriter(join(dir, 'jsonl'), { format: 'jsonl' });
  jsonl.write('a "b"', { n: 1 });
  const raw = Buffer.from('k\t"v\\tw"');
  jsonl.writeRaw(raw, 0, 1, raw, 2, raw.length);
  jsonl.writeRawKey(Buffer.from('s'), 0, 1, '42');
  jsonl.writeLine(Buffer.from('x\ty\tz'), 0, 5);
  jsonl.writeLine(Buffer.from('alone'), 0, 5);
  jsonl.write('u', undefined);
  jsonl.close();
  assert.equal(
    readFileSync(join(dir, 'jsonl'), 'utf8'),
    '{"key":"a \\"b\\"","value":{"n":1}}\n{"key":"k","value":"v\\tw"}\n{"key":"s","value":42}\n{"key":"x","value":"y\\tz"}\n{"key":"alone","value":null}\n{"key":"u","value":null}\n',
  );
  const csv = new OutputWriter(join(dir, 'csv'), { format: 'csv' });
  csv.write('k1', { a: 'x,y', b: 'say "hi"', c: null, d: [1, 2] });
  csv.write('k2', { d: true, c: 2.5, b: 'line\nbreak', a: '' });
  csv.close();
  assert.equal(readFileSync(join(dir, 'csv'), 'utf8'), 'key,a,b,c,d\nk1,"x,y","say ""hi""",,"[1,2]"\nk2,,"line\nbreak",2.5,true\n');
  const bad = new OutputWriter(join(dir, 'bad'), { format: 'csv' });
  bad.write('k1', { a: 1 });
  assert.throws(() => bad.write('k2', { a: 1, z: 2 }), /key "k2".*the field "z", which is not a column/);
  assert.throws(() => bad.write('k3', {}), /key "k3".*lacks the field "a"/);
  assert.throws(() => bad.write('k4', 7), /key "k4".*7 is not an object/);
  bad.close();
});
