import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tokenBytes } from '../api/token-bytes.ts';
import { CombiningMapOutput } from './combining-map-output.ts';
import { createMapOutputMode } from './map-output.ts';
import type { CombineMode, MapOutputMode, MapOutputOptions } from './map-output-mode.ts';
import { hashBytes, hashString } from './partition.ts';
import { PlainMapOutput } from './plain-map-output.ts';
import { readFooter, SegmentReader } from './run-file.ts';
import { SummingMapOutput } from './summing-map-output.ts';
import { loadTokenKernel } from './token-table.ts';

/**
 * What every combine mode's map output must do alike (the conformance suite of MapOutputMode), and
 * what one mode does that map-output.test.ts does not reach. Each implementation is built by the
 * factory, the way MapOutput builds it.
 */
const root = mkdtempSync(join(tmpdir(), 'torpedo-modes-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(() => loadTokenKernel());
let n = 0;

const WORDS = tokenBytes('a-z', { lowerCase: true, nonAscii: true });
const R = 3;

function newOutput(combine: CombineMode, budgetBytes: number, extra: Partial<MapOutputOptions> = {}): { out: MapOutputMode; dir: string } {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir);
  return { out: createMapOutputMode({ reducers: R, partition: (k) => hashString(k) % R, combine, budgetBytes, spillDir: dir, ...extra }), dir };
}

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

function totals(parts: [string, unknown][][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const seg of parts) for (const [k, v] of seg) m.set(k, (m.get(k) ?? 0) + (v as number));
  return m;
}

const modes = [
  { name: 'plain (no combiner)', combine: { kind: 'none' } as CombineMode, type: PlainMapOutput },
  { name: 'summing (sum)', combine: { kind: 'sum' } as CombineMode, type: SummingMapOutput },
  {
    name: 'combining (a user combiner)',
    combine: { kind: 'function', combine: (_k, vs) => [vs.reduce((a: number, b) => a + (b as number), 0)] } as CombineMode,
    type: CombiningMapOutput,
  },
] as const;

for (const { name, combine, type } of modes) {
  describe(`map output, ${name}`, () => {
    it('is the implementation the factory picks for its combine kind', () => {
      assert.ok(newOutput(combine, 1 << 30).out instanceof type);
    });

    for (const budget of [1 << 30, 3000]) {
      it(`counts every pair once, through emit, emitBytes, countTokens and its onHighRun (budget ${budget})`, () => {
        const { out, dir } = newOutput(combine, budget);
        const want = new Map<string, number>();
        const add = (k: string): void => void want.set(k, (want.get(k) ?? 0) + 1);
        let pairs = 0;
        for (let i = 0; i < 2000; i++) {
          const key = `k${i % 97}`;
          if (i % 2 === 0) out.emit(key, 1);
          else {
            const b = Buffer.from(`(${key})`);
            out.emitBytes(b, 1, b.length - 1, 1);
          }
          add(key);
          pairs++;
        }
        const text = Buffer.from(Array.from({ length: 300 }, (_, i) => `alpha beta${'xyz'[i % 3]} été\n`).join(''));
        out.countTokens(text, 0, text.length, WORDS, (s, e) => {
          const word = text.toString('utf8', s, e);
          const b = Buffer.from(word);
          out.emitBytes(b, 0, b.length, 1); // as a job's nonAscii function does
        });
        for (const w of text.toString('utf8').match(/[a-zé]+/g) ?? []) {
          add(w);
          pairs++;
        }
        assert.equal(out.stats.outputPairs, pairs);
        const path = join(dir, 'final.run');
        out.finish(path);
        assert.deepEqual(readdirSync(dir), ['final.run'], 'spills are removed');
        const parts = readRun(path);
        assert.deepEqual(totals(parts), want);
        for (const [r, seg] of parts.entries()) for (const [k] of seg) assert.equal(hashString(k) % R, r, `${k} in its partition`);
        const { spills, spilledPairs } = out.stats;
        if (budget < 1 << 30) assert.ok(spills > 1, `spilled ${spills} times`);
        else assert.equal(spills, 0);
        // Every pair written to a run (a spill, or the final run when nothing spilled) is counted.
        if (combine.kind === 'none') assert.equal(spilledPairs, pairs);
        else assert.ok(spilledPairs >= want.size && spilledPairs <= pairs, `spilled ${spilledPairs} pairs`);
      });
    }

    it('refuses a key that is not a string', () => {
      const { out } = newOutput(combine, 1 << 30);
      assert.throws(() => out.emit(7 as unknown as string, 1), { code: 'TORPEDO_ERR_BAD_EMIT' });
    });

    it('refuses a countTokens call from its own onHighRun, and stays usable', () => {
      const { out, dir } = newOutput(combine, 1 << 30);
      const line = Buffer.from('plain café words\n');
      assert.throws(() => out.countTokens(line, 0, line.length, WORDS, () => out.countTokens(line, 0, line.length, WORDS)), {
        code: 'TORPEDO_ERR_USER_CODE',
        message: /cannot be called from its own nonAscii function/,
      });
      out.countTokens(line, 0, line.length, WORDS);
      out.finish(join(dir, 'final.run'));
      // (What the refused call had counted before it stays counted: the attempt fails anyway.)
      assert.deepEqual([...totals(readRun(join(dir, 'final.run'))).keys()].sort(), ['café', 'plain', 'words']);
    });
  });
}

describe('map output, summing only', () => {
  it('refuses a value that is not a number, from emit and from emitBytes', () => {
    const { out } = newOutput({ kind: 'sum' }, 1 << 30);
    const b = Buffer.from('key');
    assert.throws(() => out.emit('key', '1'), { code: 'TORPEDO_ERR_BAD_EMIT', message: /needs numeric values, got string/ });
    assert.throws(() => out.emitBytes(b, 0, b.length, null), { code: 'TORPEDO_ERR_BAD_EMIT', message: /needs numeric values, got object/ });
  });

  it('a key emitted both as a string and as bytes has one total', () => {
    for (const budget of [1 << 30, 2000]) {
      const { out, dir } = newOutput({ kind: 'sum' }, budget);
      for (let i = 0; i < 3000; i++) {
        const key = `w${i % 50}`;
        if (i % 3 === 0) out.emit(key, 2);
        else out.emitBytes(Buffer.from(key), 0, key.length, 1);
      }
      out.finish(join(dir, 'final.run'));
      const got = totals(readRun(join(dir, 'final.run')));
      assert.equal(got.size, 50);
      for (const [k, v] of got) assert.equal(v, 80, `${k} (budget ${budget})`);
    }
  });
});

describe('map output, plain only', () => {
  it('emitBytes partitions by bytes when the job can, and a key lands where emit would put it', () => {
    let byBytes = 0;
    const partitionBytes = (b: Uint8Array, s: number, e: number): number => {
      byBytes++;
      return hashBytes(b, s, e) % R;
    };
    const { out, dir } = newOutput({ kind: 'none' }, 1 << 30, { partitionBytes });
    for (let i = 0; i < 500; i++) {
      const key = `key-${i % 40}-é`;
      if (i % 2 === 0) out.emit(key, i);
      else out.emitBytes(Buffer.from(key), 0, Buffer.byteLength(key), i);
    }
    assert.equal(byBytes, 250);
    out.finish(join(dir, 'final.run'));
    const parts = readRun(join(dir, 'final.run'));
    assert.equal(parts.flat().length, 500);
    for (const [r, seg] of parts.entries()) {
      for (const [k] of seg) assert.equal(hashString(k) % R, r, `${k} in its partition`);
      const values = new Map<string, number[]>();
      for (const [k, v] of seg) values.set(k, [...(values.get(k) ?? []), v as number]);
      for (const [k, vs] of values) assert.deepEqual(vs, [...vs].sort((a, b) => a - b), `${k}: values in emission order`);
    }
  });
});
