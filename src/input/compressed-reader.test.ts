import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prng, randomText } from '../../test/prng.ts';
import { TorpedoError } from '../errors.ts';
import type { InputCompression } from './codecs.ts';
import { readSplit } from './split-reader.ts';
import { planSplits, type Split } from './splits.ts';

// The readers of compressed splits against the codecs' own command-line tools (gzip, bzip2, zstd
// compress; the records must be the lines of what they were given).

const dir = mkdtempSync(join(tmpdir(), 'torpedo-codecs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function compress(tool: 'gzip' | 'bzip2' | 'zstd', data: Buffer, args: string[] = []): Buffer {
  return execFileSync(tool, [...args, '-c'], { input: data, maxBuffer: 1 << 30 });
}

function write(name: string, data: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

function plan(path: string, splitSize: number, compression: InputCompression = 'auto'): Split[] {
  const st = statSync(path);
  return planSplits([{ path, size: st.size, mtimeMs: st.mtimeMs }], splitSize, { inputCompression: compression });
}

/** Every record of every split, in order, with its offset. */
async function records(splits: readonly Split[], chunk = 1 << 16): Promise<{ lines: string[]; offsets: number[] }> {
  const lines: string[] = [];
  const offsets: number[] = [];
  for (const split of splits) {
    for await (const c of readSplit(split, chunk)) {
      let pos = 0;
      while (pos < c.length) {
        let nl = c.buf.indexOf(10, pos);
        if (nl === -1 || nl >= c.length) nl = c.length;
        lines.push(c.buf.toString('utf8', pos, nl));
        offsets.push(c.offset + pos);
        pos = nl + 1;
      }
    }
  }
  return { lines, offsets };
}

function linesOf(data: Buffer): string[] {
  const text = data.toString('utf8');
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** Text of about `bytes`, with lines of every length, some far longer than a bzip2 block. */
function text(seed: number, bytes: number): Buffer {
  const rand = prng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const r = rand();
    const line = r < 0.01 ? 'x'.repeat(Math.floor(rand() * 250_000)) : r < 0.03 ? '' : randomText(rand, 30);
    parts.push(line);
    n += line.length + 1;
  }
  return Buffer.from(`${parts.join('\n')}${rand() < 0.5 ? '\n' : ''}`);
}

async function rejects(splits: readonly Split[], pattern: RegExp): Promise<void> {
  await assert.rejects(records(splits), (e: unknown) => {
    assert.ok(e instanceof TorpedoError, String(e));
    assert.equal(e.code, 'TORPEDO_ERR_CORRUPT_INPUT', e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('bzip2 splits', () => {
  it('every line is read by exactly one split, whatever the split size, across many blocks', async () => {
    for (const seed of [1, 2, 3]) {
      const data = text(seed, 1_500_000);
      // -1: blocks of 100 kB, so the file has about 15 of them, and long lines cross several.
      const path = write(`t${seed}.bz2`, compress('bzip2', data, ['-1']));
      const want = linesOf(data);
      for (const splitSize of [1024, 5000, 33_333, 100_000, 1 << 20, 1 << 30]) {
        const splits = plan(path, splitSize);
        const got = await records(splits);
        assert.equal(got.lines.length, want.length, `seed ${seed}, split size ${splitSize}: ${splits.length} splits`);
        assert.deepEqual(got.lines, want, `seed ${seed}, split size ${splitSize}`);
      }
    }
  });

  it('a file of one split gives the offsets of the decompressed data', async () => {
    const data = text(7, 300_000);
    const path = write('offsets.bz2', compress('bzip2', data, ['-1']));
    const { offsets, lines } = await records(plan(path, 1 << 30));
    lines.forEach((line, i) => assert.equal(data.toString('utf8', offsets[i], offsets[i]! + Buffer.byteLength(line)), line));
  });

  it('a run of one byte that expands a block many times over, and a multi-stream file', async () => {
    const runs = Buffer.from(`${'a'.repeat(3_000_000)}\nb\n${'c'.repeat(10)}\n`);
    const one = compress('bzip2', runs, ['-1']);
    const two = compress('bzip2', Buffer.from('second\nstream\n'));
    const path = write('multi.bz2', Buffer.concat([one, two]));
    for (const splitSize of [1024, 1 << 20]) assert.deepEqual((await records(plan(path, splitSize))).lines, [...linesOf(runs), 'second', 'stream']);
  });

  it('a file of one repeated line: hundreds of blocks of a few bytes each, decoded a few at a time', async () => {
    const data = Buffer.from('a\n'.repeat(5_000_000));
    const path = write('repeated.bz2', compress('bzip2', data, ['-1']));
    assert.ok(statSync(path).size < 20_000, 'blocks of a few bytes');
    for (const splitSize of [1024, 1 << 20]) {
      const { lines } = await records(plan(path, splitSize), 1 << 20);
      assert.equal(lines.length, 5_000_000);
      assert.ok(lines.every((l) => l === 'a'));
    }
  });

  it('a truncated, damaged or foreign file fails with the file, the codec and the reason', async () => {
    const good = compress('bzip2', text(9, 400_000), ['-1']);
    await rejects(plan(write('cut.bz2', good.subarray(0, good.length - 1000)), 1 << 20), /cut\.bz2.*bzip2.*truncated/);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)]! ^= 0x10;
    await rejects(plan(write('flip.bz2', flipped), 1 << 20), /flip\.bz2.*bzip2.*(CRC|does not decode)/);
    await rejects(plan(write('plain.bz2', Buffer.from('not compressed\n')), 1 << 20), /plain\.bz2.*bzip2 header.*--input-compression none/);
  });
});

describe('gzip and zstd', () => {
  it('one split per file, all members or frames of it, as the tools wrote them', async () => {
    const a = text(11, 200_000);
    const b = text(12, 100_000);
    for (const [tool, ext] of [['gzip', 'gz'], ['zstd', 'zst']] as const) {
      const path = write(`two.${ext}`, Buffer.concat([compress(tool, a), compress(tool, b)]));
      const splits = plan(path, 1024);
      assert.equal(splits.length, 1, `${tool}: one split`);
      const got = await records(splits, 4096);
      assert.deepEqual(got.lines, linesOf(Buffer.concat([a, b])), tool);
      got.lines.forEach((line, i) => assert.equal(Buffer.concat([a, b]).toString('utf8', got.offsets[i], got.offsets[i]! + Buffer.byteLength(line)), line));
    }
  });

  it('zstd frames of every kind: tiny ones, without a checksum, and skippable frames between', async () => {
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a5e, 0);
    skippable.writeUInt32LE(5, 4);
    const file = Buffer.concat([compress('zstd', Buffer.from('a')), skippable, compress('zstd', Buffer.from('b\nc'), ['--no-check']), compress('zstd', text(15, 50_000))]);
    const path = write('frames.zst', file);
    for (const chunk of [7, 1 << 16]) assert.deepEqual((await records(plan(path, 1024), chunk)).lines, linesOf(Buffer.concat([Buffer.from('ab\nc'), text(15, 50_000)])));
  });

  it('empty and tiny files', async () => {
    for (const [tool, ext] of [['gzip', 'gz'], ['zstd', 'zst'], ['bzip2', 'bz2']] as const) {
      assert.deepEqual((await records(plan(write(`empty.${ext}`, compress(tool, Buffer.alloc(0))), 1024))).lines, [], `${tool}: empty`);
      assert.deepEqual((await records(plan(write(`tiny.${ext}`, compress(tool, Buffer.from('x'))), 1024))).lines, ['x'], `${tool}: tiny`);
    }
  });

  it('truncated and damaged files fail with the file, the codec and the reason', async () => {
    const data = text(13, 300_000);
    for (const [tool, ext] of [['gzip', 'gz'], ['zstd', 'zst']] as const) {
      const good = compress(tool, data);
      await rejects(plan(write(`cut.${ext}`, good.subarray(0, good.length - 100)), 1 << 20), new RegExp(`cut\\.${ext}.*${tool}.*truncated`));
      await rejects(plan(write(`foreign.${ext}`, Buffer.from('plain text\n')), 1 << 20), new RegExp(`foreign\\.${ext}.*not valid ${tool} data`));
    }
    // A flipped bit anywhere: gzip's CRC-32 and zstd's frame checksums (fzstd skips them: zstd-frames.ts checks them).
    const rand = prng(14);
    for (const [tool, ext] of [['gzip', 'gz'], ['zstd', 'zst']] as const) {
      const good = compress(tool, data);
      for (let i = 0; i < 20; i++) {
        const bad = Buffer.from(good);
        bad[20 + Math.floor(rand() * (good.length - 30))]! ^= 1 << i % 8;
        await rejects(plan(write(`flip${i}.${ext}`, bad), 1 << 20), new RegExp(`flip${i}\\.${ext}.*${tool}`));
      }
    }
  });

  it('--input-compression forces a codec, or none', async () => {
    const data = Buffer.from('one\ntwo\n');
    const path = write('noext', compress('gzip', data));
    assert.deepEqual((await records(plan(path, 1024, 'gzip'))).lines, ['one', 'two']);
    const raw = write('raw.gz', data);
    assert.deepEqual((await records(plan(raw, 1024, 'none'))).lines, ['one', 'two']);
    assert.equal(plan(raw, 1024, 'none')[0]?.compression, undefined);
    assert.deepEqual(readFileSync(raw), data);
  });
});
