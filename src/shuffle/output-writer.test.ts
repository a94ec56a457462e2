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
