import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isTorpedoError } from '../errors.ts';
import { CHUNK_BYTES, readFooter, RunWriter, SegmentReader } from './run-file.ts';

const root = mkdtempSync(join(tmpdir(), 'torpedo-runfile-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A run of two segments, the first several chunks long: pairs `k<i>` → i. */
function writeRun(): { path: string; pairs: number } {
  const path = join(root, `run-${n++}`);
  const w = new RunWriter(path, 4096); // a small buffer: chunks span flushes
  const pairs = 20_000;
  for (let i = 0; i < pairs; i++) w.write(`k${String(i).padStart(6, '0')}`, String(i));
  w.endSegment();
  w.write('only', '"one"');
  w.endSegment();
  w.close();
  return { path, pairs };
}

function readAll(path: string, segment: number): string[] {
  const fd = openSync(path, 'r');
  try {
    const seg = readFooter(path).segments[segment];
    assert.ok(seg !== undefined);
    const r = new SegmentReader(fd, path, seg, 1000);
    const out: string[] = [];
    while (r.next()) out.push(`${r.key}=${String(r.value())}`);
    return out;
  } finally {
    closeSync(fd);
  }
}

function corruptError(f: () => unknown, path: string, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_CORRUPT_DATA' && e.details.file === path && pattern.test(e.message));
}

test('a run reads back whole, with one CRC per chunk of each segment', () => {
  const { path, pairs } = writeRun();
  const footer = readFooter(path);
  const first = footer.segments[0];
  assert.ok(first !== undefined && first.length > 3 * CHUNK_BYTES);
  assert.equal(first.crcs.length, Math.ceil(first.length / CHUNK_BYTES));
  const got = readAll(path, 0);
  assert.equal(got.length, pairs);
  assert.equal(got[12_345], 'k012345=12345');
  assert.deepEqual(readAll(path, 1), ['only=one']);
});

test('one changed byte in a segment is found before its chunk is parsed', () => {
  const { path } = writeRun();
  const data = readFileSync(path);
  const at = 2 * CHUNK_BYTES + 100;
  data[at] = (data[at] as number) ^ 0x04;
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  try {
    const seg = readFooter(path).segments[0];
    assert.ok(seg !== undefined);
    const r = new SegmentReader(fd, path, seg, 1000);
    let read = 0;
    corruptError(() => {
      while (r.next()) read++;
    }, path, /checksum mismatch in bytes 131072–196608/);
    assert.ok(read < (2 * CHUNK_BYTES) / 8, `no pair of the damaged chunk was handed out (${read} read)`);
    // Found once, then every later call says so again: a caller that swallowed it cannot go on.
    corruptError(() => r.next(), path, /checksum mismatch/);
  } finally {
    closeSync(fd);
  }
});

test('a cut-off file, a damaged index and a missing file are each named', () => {
  const cut = writeRun().path;
  truncateSync(cut, 100_000);
  corruptError(() => readFooter(cut), cut, /not a complete torpedo run file \(100000 bytes/);

  const index = writeRun().path;
  const data = readFileSync(index);
  const tailAt = data.length - 16 - 20; // inside the footer's JSON
  data[tailAt] = (data[tailAt] as number) ^ 0x01;
  writeFileSync(index, data);
  corruptError(() => readFooter(index), index, /damaged index/);

  const missing = join(root, 'no-such-run');
  corruptError(() => readFooter(missing), missing, /is missing/);
});

test('a file with bytes added before its index does not match its index', () => {
  const { path } = writeRun();
  const data = readFileSync(path);
  const footer = readFooter(path);
  const end = (footer.segments[1]?.offset ?? 0) + (footer.segments[1]?.length ?? 0);
  writeFileSync(path, Buffer.concat([data.subarray(0, end), Buffer.from('extra'), data.subarray(end)]));
  corruptError(() => readFooter(path), path, /bytes of segments where its index lists/);
});
