import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { prng, randomText } from '../../test/prng.ts';
import { compareKeys } from './key-order.ts';
import { MapOutput, type CombineMode } from './map-output.ts';
import { Merger } from './merge.ts';
import { hashBytes, hashString } from './partition.ts';
import { readFooter, SegmentReader } from './run-file.ts';
import { loadTokenKernel } from './token-table.ts';
import { tokenBytes } from '../api/token-bytes.ts';

const root = mkdtempSync(join(tmpdir(), 'torpedo-shuffle-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function readRun(path: string): [string, unknown][][] {
  const fd = openSync(path, 'r');
  try {
    return readFooter(path).segments.map((seg) => {
      const r = new SegmentReader(fd, path, seg, 64);
      const pairs: [string, unknown][] = [];
      while (r.next()) pairs.push([r.key, r.value()]);
      return pairs;
    });
  } finally {
    closeSync(fd);
  }
}

/** Emits the same random pairs into a MapOutput with the given budget; returns its segments. */
function run(mode: CombineMode, budget: number, bytes: boolean, hash?: (b: Buffer) => number): { parts: [string, unknown][][]; spills: number } {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir);
  const R = 3;
  const out = new MapOutput({ reducers: R, partition: (k) => hashString(k) % R, combine: mode, budgetBytes: budget, spillDir: dir });
  const rand = prng(11);
  for (let i = 0; i < 5000; i++) {
    const key = randomText(rand, 3);
    if (bytes) {
      const b = Buffer.from(`#${key}#`);
      out.emitBytes(b, 1, b.length - 1, 1, hash?.(b.subarray(1, b.length - 1)));
    } else {
      out.emit(key, mode.kind === 'none' ? { i } : 1);
    }
  }
  out.finish(join(dir, 'final.run'));
  assert.deepEqual(readdirSync(dir), ['final.run'], 'spills are removed');
  return { parts: readRun(join(dir, 'final.run')), spills: out.stats.spills };
}

const sum: CombineMode = { kind: 'sum' };
const userSum: CombineMode = { kind: 'function', combine: (_k, vs) => [vs.reduce((a: number, b) => a + (b as number), 0)] };

describe('map side: buffer, partition, sort, combine, spill, merge', () => {
  for (const [name, mode, bytes] of [
    ['no combiner', { kind: 'none' } as CombineMode, false],
    ['sum combiner', sum, false],
    ['sum combiner, byte keys', sum, true],
    ['user combiner', userSum, false],
  ] as const) {
    it(`${name}: spilling many times gives the same result as no spill`, () => {
      const whole = run(mode, 1 << 30, bytes);
      const spilled = run(mode, 2000, bytes);
      assert.equal(whole.spills, 0);
      assert.ok(spilled.spills > 5, `spilled ${spilled.spills} times`);
      for (const [r, seg] of spilled.parts.entries()) {
        const keys = seg.map(([k]) => k);
        assert.deepEqual([...keys].sort(compareKeys), keys, `segment ${r} sorted by key bytes`);
        for (const k of keys) assert.equal(hashString(k) % 3, r, 'pair in its partition');
      }
      if (mode.kind === 'none') {
        assert.deepEqual(spilled.parts, whole.parts, 'same pairs, ties in emission order');
      } else {
        const total = (parts: [string, unknown][][]): Map<string, number> => {
          const m = new Map<string, number>();
          for (const seg of parts) for (const [k, v] of seg) m.set(k, (m.get(k) ?? 0) + (v as number));
          return m;
        };
        assert.deepEqual(total(spilled.parts), total(whole.parts));
        for (const seg of whole.parts) assert.equal(new Set(seg.map(([k]) => k)).size, seg.length, 'combined: one pair per key');
      }
    });
  }

  it('sum with byte keys: a caller-supplied hash, right or wrong, gives the same totals', () => {
    const totals = (parts: [string, unknown][][]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const seg of parts) for (const [k, v] of seg) m.set(k, (m.get(k) ?? 0) + (v as number));
      return m;
    };
    const plain = run(sum, 1 << 30, true);
    const right = run(sum, 1 << 30, true, (b) => hashBytes(b, 0, b.length));
    const wrong = run(sum, 3000, true, (b) => b.length);
    assert.deepEqual(right.parts, plain.parts);
    assert.deepEqual(totals(wrong.parts), totals(plain.parts));
  });

  it('the merger streams equal keys from several runs in source order', () => {
    const dir = join(root, 'merge');
    mkdirSync(dir);
    const paths = [0, 1, 2].map((i) => {
      const o = new MapOutput({ reducers: 1, partition: () => 0, combine: { kind: 'none' }, budgetBytes: 1 << 30, spillDir: dir });
      for (const k of ['b', 'a', 'c', 'a']) o.emit(k, `${k}${i}`);
      const p = join(dir, `run${i}`);
      o.finish(p);
      return p;
    });
    const fds = paths.map((p) => openSync(p, 'r'));
    const m = new Merger(paths.map((p, i) => new SegmentReader(fds[i] as number, p, readFooter(p).segments[0]!, 16)));
    const got: string[] = [];
    while (m.next()) got.push(`${m.current.key}=${String(m.current.value())}`);
    fds.forEach((fd) => closeSync(fd));
    assert.deepEqual(got, ['a=a0', 'a=a0', 'a=a1', 'a=a1', 'a=a2', 'a=a2', 'b=b0', 'b=b1', 'b=b2', 'c=c0', 'c=c1', 'c=c2']);
  });
});

describe('countTokens (the WebAssembly token counter behind ctx.countTokens)', () => {
  const WORDS = tokenBytes('a-zA-Z', { lowerCase: true, nonAscii: true });
  const text = Buffer.from(
    Array.from({ length: 4000 }, (_, i) => `Word${'abcdefghij'[i % 10]} w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i * 7) % 26))} ÉTÉ${i % 3}\n`).join(''),
  );
  /** Totals per key over a run's segments, and whether each key appears once. */
  const totals = (parts: [string, unknown][][]): { totals: Map<string, number>; pairs: number } => {
    const m = new Map<string, number>();
    let pairs = 0;
    for (const seg of parts) for (const [k, v] of seg) {
      m.set(k, (m.get(k) ?? 0) + (v as number));
      pairs++;
    }
    return { totals: m, pairs };
  };
  /** Counts `text` in chunks of ~1 KB through countTokens; runs with non-ASCII go to emit as their lower-cased words. */
  function count(mode: CombineMode, budget: number): { parts: [string, unknown][][]; spills: number } {
    const dir = join(root, `t${n++}`);
    mkdirSync(dir);
    const out = new MapOutput({ reducers: 3, partition: (k) => hashString(k) % 3, combine: mode, budgetBytes: budget, spillDir: dir });
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf(10, start + 1000) + 1 || text.length;
      out.countTokens(text, start, end, WORDS, (s, e) => {
        for (const w of text.toString('utf8', s, e).toLowerCase().match(/[a-zé]+/g) ?? []) {
          const b = Buffer.from(w);
          out.emitBytes(b, 0, b.length, 1);
        }
      });
      start = end;
    }
    out.finish(join(dir, 'final.run'));
    return { parts: readRun(join(dir, 'final.run')), spills: out.stats.spills };
  }
  const expected = new Map<string, number>();
  for (const w of text.toString('utf8').toLowerCase().match(/[a-zé]+/g) ?? []) expected.set(w, (expected.get(w) ?? 0) + 1);

  it('with sum: one pair per key and the right totals, spilled or not, non-ASCII words in the same table', async () => {
    await loadTokenKernel();
    const whole = count(sum, 1 << 30);
    assert.equal(whole.spills, 0);
    assert.deepEqual(totals(whole.parts).totals, expected);
    assert.equal(totals(whole.parts).pairs, expected.size, 'no key twice: emitBytes went to the token table too');
    const spilled = count(sum, 4000);
    assert.ok(spilled.spills > 3, `spilled ${spilled.spills} times`);
    assert.deepEqual(totals(spilled.parts).totals, expected);
  });

  it('refuses a countTokens call from inside its own nonAscii function, and stays usable', async () => {
    await loadTokenKernel();
    const dir = join(root, `t${n++}`);
    mkdirSync(dir);
    const out = new MapOutput({ reducers: 1, partition: () => 0, combine: sum, budgetBytes: 1 << 30, spillDir: dir });
    const line = Buffer.from('plain café words\n');
    assert.throws(
      () => out.countTokens(line, 0, line.length, WORDS, () => out.countTokens(line, 0, line.length, WORDS)),
      /cannot be called from its own nonAscii function/,
    );
    out.countTokens(line, 0, line.length, WORDS);
    out.finish(join(dir, 'final.run'));
    assert.deepEqual(readRun(join(dir, 'final.run'))[0]?.map(([k]) => k), ['café', 'plain', 'words']);
  });

  it('without sum: one (token, 1) pair per token, to a user combiner or none', async () => {
    await loadTokenKernel();
    const plain = count({ kind: 'none' }, 1 << 30);
    const occurrences = [...expected.values()].reduce((a, b) => a + b, 0);
    assert.equal(totals(plain.parts).pairs, occurrences);
    assert.deepEqual(totals(plain.parts).totals, expected);
    assert.ok(plain.parts.every((seg) => seg.every(([, v]) => v === 1)));
    assert.deepEqual(totals(count(userSum, 5000).parts).totals, expected);
  });
});

it('a combiner that keeps every value is not run again at every value of a hot key', () => {
  let calls = 0;
  const keepAll: CombineMode = {
    kind: 'function',
    combine: (_k, vs) => {
      calls++;
      return [...vs];
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-mo-'));
  try {
    const out = new MapOutput({ reducers: 1, partition: () => 0, combine: keepAll, budgetBytes: 1e9, spillDir: dir });
    for (let i = 0; i < 20_000; i++) out.emit('hot', i);
    out.finish(join(dir, 'out.run'));
    // Doubling thresholds: about log2(20000 / 64) + 1 calls during emits, and one at the end;
    // re-combining at every value made it 19,937 (and quadratic time).
    assert.ok(calls < 20, `combine ran ${calls} times`);
    assert.equal(readRun(join(dir, 'out.run'))[0]?.length, 20_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('sorts a partition of more than 2^21 pairs by key, stably (the slice-and-merge path)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-mo-'));
  try {
    const out = new MapOutput({ reducers: 1, partition: () => 0, combine: { kind: 'none' }, budgetBytes: 1e10, spillDir: dir });
    const keys = ['the', 'of', 'and', 'zebra', 'a', 'théâtre', 'apple', 'applesauce'];
    const n = 2 ** 21 + 100_000;
    for (let i = 0; i < n; i++) out.emit(keys[(i * 7919) % keys.length] as string, i);
    out.finish(join(dir, 'out.run'));
    const pairs = readRun(join(dir, 'out.run'))[0] ?? [];
    assert.equal(pairs.length, n);
    for (let i = 1; i < pairs.length; i++) {
      const [k0, v0] = pairs[i - 1] as [string, number];
      const [k1, v1] = pairs[i] as [string, number];
      const c = Buffer.compare(Buffer.from(k0), Buffer.from(k1));
      assert.ok(c < 0 || (c === 0 && v0 < v1), `pair ${i}: ${k0}/${v0} before ${k1}/${v1}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a user combiner sees every value once, whether values wait in numeric blocks or arrays', () => {
  // Sums numbers; keeps strings as they are; drops everything of key "drop".
  const mixed: CombineMode = {
    kind: 'function',
    combine: (k, vs) => {
      if (k === 'drop') return [];
      const strings = vs.filter((v) => typeof v === 'string');
      const total = vs.reduce((a: number, v) => a + (typeof v === 'number' ? v : 0), 0);
      return [total, ...strings];
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-mo-'));
  try {
    for (const budget of [1e9, 3000]) {
      const out = new MapOutput({ reducers: 1, partition: () => 0, combine: mixed, budgetBytes: budget, spillDir: dir });
      const want = new Map<string, { total: number; strings: string[] }>();
      const rand = prng(5);
      for (let i = 0; i < 30_000; i++) {
        const key = ['hot', 'warm', 'mixed', 'drop', `k${Math.floor(rand() * 300)}`][i % 5] as string;
        const value = key === 'mixed' && i % 97 === 0 ? `s${i}` : (i % 7) - 1.5;
        out.emit(key, value);
        if (key === 'drop') continue;
        const w = want.get(key) ?? { total: 0, strings: [] };
        if (typeof value === 'number') w.total += value;
        else w.strings.push(value);
        want.set(key, w);
      }
      const path = join(dir, `out-${budget}.run`);
      out.finish(path);
      const got = new Map<string, { total: number; strings: string[] }>();
      for (const [k, v] of readRun(path)[0] ?? []) {
        const g = got.get(k) ?? { total: 0, strings: [] };
        if (typeof v === 'number') g.total += v;
        else g.strings.push(v as string);
        got.set(k, g);
      }
      for (const w of got.values()) w.strings.sort();
      for (const w of want.values()) w.strings.sort();
      assert.deepEqual(got, want, `budget ${budget}`);
      rmSync(path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
