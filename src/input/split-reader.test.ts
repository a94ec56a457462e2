import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prng, randomText } from '../../test/prng.ts';
import { planSplits, splitSizeForMaps } from './splits.ts';
import { readSplit } from './split-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'torpedo-splits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** All records of a file read split by split, each with its byte offset. */
async function readAll(path: string, size: number, splitSize: number, chunk: number): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for (const split of planSplits([{ path, size, mtimeMs: statSync(path).mtimeMs }], splitSize)) {
    for await (const c of readSplit(split, chunk)) {
      let pos = 0;
      while (pos < c.length) {
        let nl = c.buf.indexOf(10, pos);
        if (nl === -1 || nl >= c.length) nl = c.length;
        out.push([c.offset + pos, c.buf.toString('utf8', pos, nl)]);
        pos = nl + 1;
      }
    }
  }
  return out;
}

/** The records of a file by the definition: lines, the last one possibly without `\n`. */
function expected(data: Buffer): [number, string][] {
  const out: [number, string][] = [];
  let pos = 0;
  while (pos < data.length) {
    let nl = data.indexOf(10, pos);
    if (nl === -1) nl = data.length;
    out.push([pos, data.toString('utf8', pos, nl)]);
    pos = nl + 1;
  }
  return out;
}

describe('splits and record boundaries', () => {
  it('every record is read exactly once, whatever the split and chunk sizes (randomized)', async () => {
    const rand = prng(42);
    for (let round = 0; round < 40; round++) {
      const lines: string[] = [];
      const n = Math.floor(rand() * 30);
      for (let i = 0; i < n; i++) lines.push(randomText(rand, 12) + (rand() < 0.2 ? '\r' : ''));
      let text = lines.join('\n');
      if (rand() < 0.5 && text.length > 0) text += '\n';
      const data = Buffer.from(text);
      const path = join(dir, `f${round}`);
      writeFileSync(path, data);
      const want = expected(data);
      for (const splitSize of [1, 2, 3, 7, 16, 100, 1 << 20]) {
        for (const chunk of [8, 64, 1 << 16]) {
          assert.deepEqual(await readAll(path, data.length, splitSize, chunk), want, `round ${round}, split ${splitSize}, chunk ${chunk}`);
        }
      }
    }
  });

  it('a line much longer than the split size belongs to the split where it starts', async () => {
    const long = 'y'.repeat(100_000);
    const data = Buffer.from(`a\n${long}\nb\n`);
    const path = join(dir, 'long');
    writeFileSync(path, data);
    const got = await readAll(path, data.length, 1000, 4096);
    assert.deepEqual(got, [[0, 'a'], [2, long], [100_003, 'b']]);
  });

  it('an empty file has no splits and no records', async () => {
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    assert.deepEqual(planSplits([{ path, size: 0, mtimeMs: 0 }], 10), []);
  });

  it('a bzip2 byte counts for 4 against the split size, in planning and in --maps', () => {
    const files = [
      { path: '/in/a.bz2', size: 4000, mtimeMs: 0 },
      { path: '/in/b.txt', size: 4000, mtimeMs: 0 },
    ];
    const ranges = (splitSize: number): string[] => planSplits(files, splitSize).map((s) => `${s.file}:${s.start}-${s.end}`);
    assert.deepEqual(ranges(4000), ['/in/a.bz2:0-1000', '/in/a.bz2:1000-2000', '/in/a.bz2:2000-3000', '/in/a.bz2:3000-4000', '/in/b.txt:0-4000']);
    // 20,000 planned bytes over 5 maps: 4 splits of the bzip2 file and one of the text.
    assert.equal(planSplits(files, splitSizeForMaps(files, 5)).length, 5);
    // Forced to no codec, the .bz2 file counts its bytes as they are.
    assert.equal(planSplits(files, 4000, { inputCompression: 'none' }).length, 2);
    // A small bzip2 file is packed by its weighted size: 600 bytes count for 2,400 of 4,000.
    const small = [
      { path: '/in/c.bz2', size: 600, mtimeMs: 0 },
      { path: '/in/d.bz2', size: 600, mtimeMs: 0 },
    ];
    assert.deepEqual(planSplits(small, 4000).map((s) => 1 + (s.more?.length ?? 0)), [1, 1]);
  });

  it('a line longer than the maximum record size is a clear error with file:offset', async () => {
    const path = join(dir, 'huge');
    writeFileSync(path, `ok\n${'z'.repeat(5000)}\n`);
    await assert.rejects(
      async () => {
        for await (const _ of readSplit({ file: path, start: 0, end: 5004 }, 256, 1024)) void _;
      },
      (e: Error & { code?: string }) => e.code === 'TORPEDO_ERR_RECORD_TOO_LARGE' && /huge at byte 3: a line longer than/.test(e.message),
    );
  });

  it('a file that changed, shrank or vanished since planning is TORPEDO_ERR_INPUT_CHANGED naming it', async () => {
    const path = join(dir, 'changing');
    writeFileSync(path, 'one\ntwo\nthree\n');
    const [split] = planSplits([{ path, size: 14, mtimeMs: statSync(path).mtimeMs }], 100);
    const readWhole = async (): Promise<void> => {
      for await (const _ of readSplit(split!, 4)) void _;
    };
    const changed = (why: RegExp) => (e: Error & { code?: string }) => e.code === 'TORPEDO_ERR_INPUT_CHANGED' && e.message.includes(JSON.stringify(path)) && why.test(e.message);
    utimesSync(path, new Date(), new Date(Date.now() + 60_000)); // same size, another mtime
    await assert.rejects(readWhole, changed(/has changed since the job started: it was 14 bytes/));
    truncateSync(path, 5);
    await assert.rejects(readWhole, changed(/has shrunk since the job started: it was 14 bytes, .* and is 5 bytes/));
    rmSync(path);
    await assert.rejects(readWhole, changed(/has vanished since the job started/));
  });

  it('a file cut while being read is TORPEDO_ERR_INPUT_CHANGED; one that grows is read up to its planned size', async () => {
    const path = join(dir, 'cut');
    const text = 'a\nb\nc\nd\n';
    writeFileSync(path, text);
    const [split] = planSplits([{ path, size: text.length, mtimeMs: statSync(path).mtimeMs }], 100);
    const got: string[] = [];
    for await (const c of readSplit(split!, 2)) {
      if (got.length === 0) appendFileSync(path, 'grown\n');
      got.push(c.buf.toString('utf8', 0, c.length));
    }
    assert.equal(got.join(''), text);
    writeFileSync(path, text);
    const [again] = planSplits([{ path, size: text.length, mtimeMs: statSync(path).mtimeMs }], 100);
    await assert.rejects(
      async () => {
        for await (const _ of readSplit(again!, 2)) truncateSync(path, 4);
      },
      (e: Error & { code?: string }) => e.code === 'TORPEDO_ERR_INPUT_CHANGED' && /"[^"]*cut" has shrunk while being read: it ends before byte 4, but was 8 bytes/.test(e.message),
    );
  });
});
