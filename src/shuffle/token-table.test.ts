import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tokenBytes } from '../api/token-bytes.ts';
import { prng } from '../../test/prng.ts';
import { loadTokenKernel, TokenTable } from './token-table.ts';

const WORDS = tokenBytes("A-Za-z0-9_'", { lowerCase: true, nonAscii: true });

/** The definition countTokens implements: tokens of `table`, as latin1 strings of their folded bytes. */
function referenceCounts(buf: Uint8Array, table: Uint8Array, skipHigh: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  let i = 0;
  while (i < buf.length) {
    if (table[buf[i] as number] === 0) {
      i++;
      continue;
    }
    let token = '';
    let high = false;
    for (; i < buf.length && table[buf[i] as number] !== 0; i++) {
      token += String.fromCharCode(table[buf[i] as number] as number);
      if ((buf[i] as number) >= 0x80) high = true;
    }
    if (!(skipHigh && high)) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return counts;
}

function tableCounts(t: TokenTable): Map<string, number> {
  const counts = new Map<string, number>();
  t.forEachBytes((bytes, s, e, total) => {
    const key = Buffer.from(bytes.subarray(s, e)).toString('latin1');
    assert.ok(!counts.has(key), `one entry per key (${key})`);
    counts.set(key, total);
  });
  assert.equal(counts.size, t.size);
  return counts;
}

/** Random text: words of 1–40 letters from a small alphabet (so that they repeat), upper case, digits, UTF-8, CR, LF. */
function randomInput(seed: number, words: number): Buffer {
  const rand = prng(seed);
  const pieces: string[] = [];
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\'';
  const separators = [' ', ' ', ' ', '\n', '\r\n', ', ', '.\t', '-', '\u00a0', '—'];
  const unicode = ['é', 'Ö', 'ß', 'λ', 'Σ', '日本', '😀', 'İ'];
  for (let w = 0; w < words; w++) {
    const len = rand() < 0.05 ? 9 + Math.floor(rand() * 40) : 1 + Math.floor(rand() * 6);
    let word = '';
    for (let c = 0; c < len; c++) word += alphabet[Math.floor(rand() * (rand() < 0.7 ? 26 : alphabet.length))];
    if (rand() < 0.03) word += unicode[Math.floor(rand() * unicode.length)];
    pieces.push(word, separators[Math.floor(rand() * separators.length)] as string);
  }
  return Buffer.from(pieces.join(''));
}

/** Feeds `buf` to the table in pieces of about `piece` bytes, each cut just after a newline. */
function countInPieces(
  t: TokenTable,
  buf: Buffer,
  piece: number,
  table: Uint8Array,
  onHighRun?: (s: number, e: number) => boolean | void,
  cacheRuns = false,
): number {
  let tokens = 0;
  for (let start = 0; start < buf.length; ) {
    let end = Math.min(buf.length, start + piece);
    const nl = buf.indexOf(10, end);
    end = nl === -1 ? buf.length : nl + 1;
    tokens += t.countTokens(buf, start, end, table, onHighRun, cacheRuns);
    start = end;
  }
  return tokens;
}

before(async () => {
  await loadTokenKernel();
});

describe('TokenTable (the WebAssembly token-counting kernel)', () => {
  it('counts every token like the definition, through many table growths and long tokens', () => {
    const input = randomInput(1, 200_000);
    const t = new TokenTable();
    const tokens = countInPieces(t, input, 64 << 10, WORDS);
    const expected = referenceCounts(input, WORDS, false);
    assert.ok(expected.size > 50_000, `enough distinct tokens to grow the table several times (${expected.size})`);
    assert.deepEqual(tableCounts(t), expected);
    assert.equal(tokens, [...expected.values()].reduce((a, b) => a + b, 0));
  });

  it('hands each token that holds a byte ≥ 0x80 to onHighRun, with its original bytes, and counts the rest', () => {
    const input = randomInput(2, 30_000);
    const t = new TokenTable();
    const runs = new Map<string, number>();
    countInPieces(t, input, 4096, WORDS, (s, e) => {
      const run = input.toString('latin1', s, e);
      assert.ok(/[\x80-\xff]/.test(run) && !/[ ,.\t\r\n-]/.test(run), `a whole token with a high byte: ${JSON.stringify(run)}`);
      runs.set(run, (runs.get(run) ?? 0) + 1);
    });
    assert.deepEqual(tableCounts(t), referenceCounts(input, WORDS, true));
    // The original bytes, not lower-cased: the runs are those of an identity table.
    const identity = tokenBytes("A-Za-z0-9_'", { nonAscii: true });
    const highRuns = new Map([...referenceCounts(input, identity, false)].filter(([k]) => /[\x80-\xff]/.test(k)));
    assert.deepEqual(runs, highRuns);
  });

  it('run cache: a run handled by one add of an integer is replayed for its later copies, anything else is handed over again', () => {
    const vocabulary = ['café', 'Café', 'ÉTÉ', 'naïve', 'straße', 'ΟΔΟΣ', 'İstanbul', 'one—two', '日本語', '😀', 'plain', 'Words', "don't"];
    const rand = prng(5);
    const input = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `${vocabulary[Math.floor(rand() * vocabulary.length)]}${i % 10}${i % 17 === 0 ? '\n' : ' '}`).join(''));
    const wordsOf = (text: string): Buffer[] => (text.toLowerCase().match(/[\p{L}\p{Nd}_']+/gu) ?? []).map((w) => Buffer.from(w));
    const lowerWords = (s: number, e: number): Buffer[] => wordsOf(input.toString('utf8', s, e));
    const highRuns = [...referenceCounts(input, tokenBytes("A-Za-z0-9_'", { nonAscii: true }), false)].filter(([k]) => /[\x80-\xff]/.test(k));
    const copies = highRuns.reduce((a, [, c]) => a + c, 0);
    assert.ok(copies > highRuns.length * 3, 'runs repeat');

    // Reference: no cache, the handler adds each word of the run.
    const plain = new TokenTable();
    countInPieces(plain, input, 4096, WORDS, (s, e) => {
      for (const w of lowerWords(s, e)) plain.add(w, 0, w.length, 1);
    });

    const handlers: Record<string, { calls: number; fn: (t: TokenTable) => (s: number, e: number) => boolean | void; expectCalls: number }> = {
      // The common case: one word per run: one call per spelling.
      'one add': { calls: 0, expectCalls: highRuns.reduce((a, [run, c]) => a + (wordsOf(Buffer.from(run, 'latin1').toString('utf8')).length === 1 ? 1 : c), 0), fn: (t) => (s, e) => { for (const w of lowerWords(s, e)) t.add(w, 0, w.length, 1); } },
      // Two adds (a word emitted twice, halves): not cacheable, every copy is handed over.
      'two adds': { calls: 0, expectCalls: copies, fn: (t) => (s, e) => { for (const w of lowerWords(s, e)) { t.add(w, 0, w.length, 0.5); t.add(w, 0, w.length, 0.5); } } },
      // Returning false (e.g. it counted something else): every copy.
      'says no': { calls: 0, expectCalls: copies, fn: (t) => (s, e) => { for (const w of lowerWords(s, e)) t.add(w, 0, w.length, 1); return false; } },
    };
    assert.ok(handlers['one add']!.expectCalls < copies / 3, 'the cache saves most calls');
    for (const [name, h] of Object.entries(handlers)) {
      const t = new TokenTable();
      const fn = h.fn(t);
      countInPieces(t, input, 4096, WORDS, (s, e) => { h.calls++; return fn(s, e); }, true);
      assert.equal(h.calls, h.expectCalls, `${name}: onHighRun calls`);
      assert.deepEqual(tableCounts(t), tableCounts(plain), `${name}: the same totals as without the cache`);
    }

    // A run that emits nothing is cached as nothing; clear() forgets the cache with the keys.
    const t = new TokenTable();
    let calls = 0;
    countInPieces(t, input, 4096, WORDS, () => { calls++; }, true);
    assert.equal(calls, highRuns.length);
    assert.deepEqual(tableCounts(t), referenceCounts(input, WORDS, true));
    t.clear();
    countInPieces(t, input, 4096, WORDS, () => { calls++; }, true);
    assert.equal(calls, 2 * highRuns.length);
  });

  it('add: keys of any bytes, the empty key, keys equal up to 8 bytes or differing only in length', () => {
    const t = new TokenTable();
    const keys = ['', 'a', 'abcdefgh', 'abcdefgh\0', 'abcdefghi', 'abcdefghj', 'abcdefgh12345678', 'abcdefgh12345679', '\0', '\0\0', 'x'.repeat(1000)];
    const expected = new Map<string, number>();
    const rand = prng(3);
    for (let i = 0; i < 5000; i++) {
      const key = keys[Math.floor(rand() * keys.length)] as string;
      const value = Math.floor(rand() * 100) / 4;
      const b = Buffer.from(`[${key}]`, 'latin1');
      const before = t.size;
      t.add(b, 1, b.length - 1, value);
      assert.equal(t.size - before, expected.has(key) ? 0 : 1);
      expected.set(key, (expected.get(key) ?? 0) + value);
    }
    assert.deepEqual(tableCounts(t), expected);
  });

  it('tells apart keys whose hashes collide (300 k keys of one length and first 8 bytes: about 10 colliding pairs)', () => {
    const t = new TokenTable();
    const n = 300_000;
    const line = Buffer.from(Array.from({ length: n }, (_, i) => `prefix12${i.toString(36).padStart(5, '0')}`).join(' ') + '\n');
    for (let round = 0; round < 2; round++) t.countTokens(line, 0, line.length, WORDS);
    assert.equal(t.size, n);
    t.forEachBytes((_b, _s, _e, total) => assert.equal(total, 2));
  });

  it('takes a chunk larger than its input region (a 3 MB line), and clear() empties it for reuse', () => {
    const t = new TokenTable();
    const line = Buffer.from(`${'ab '.repeat(1 << 20)}${'z'.repeat(5000)}\n`);
    assert.equal(t.countTokens(line, 0, line.length, WORDS), (1 << 20) + 1);
    assert.deepEqual(tableCounts(t), new Map([['ab', 1 << 20], ['z'.repeat(5000), 1]]));
    const grown = t.memoryBytes;
    const many = randomInput(4, 50_000);
    countInPieces(t, many, 1 << 16, WORDS);
    assert.ok(t.memoryBytes > grown);
    t.clear();
    assert.equal(t.size, 0);
    assert.ok(t.memoryBytes < 1 << 20, `cleared: ${t.memoryBytes} bytes`);
    countInPieces(t, many, 1 << 16, WORDS);
    assert.deepEqual(tableCounts(t), referenceCounts(many, WORDS, false));
  });

  it('refuses a token table that is not 256 bytes or lets a token cross a line end', () => {
    const t = new TokenTable();
    const buf = Buffer.from('a b\n');
    const crossing = new Uint8Array(WORDS);
    crossing[10] = 10;
    for (const bad of [new Uint8Array(255), crossing, [...WORDS] as unknown as Uint8Array]) {
      assert.throws(() => t.countTokens(buf, 0, buf.length, bad), /256 entries in which \\n and \\r are 0/);
    }
  });
});

describe('tokenBytes', () => {
  it('lists characters and ranges, folds case and takes non-ASCII bytes on request', () => {
    const t = tokenBytes('a-c_-');
    assert.deepEqual([...t.keys()].filter((b) => t[b] !== 0), ['-', '_', 'a', 'b', 'c'].map((c) => c.charCodeAt(0)).sort((x, y) => x - y));
    const w = tokenBytes('A-Z', { lowerCase: true });
    assert.equal(w['Q'.charCodeAt(0)], 'q'.charCodeAt(0));
    assert.equal(w['q'.charCodeAt(0)], 0, 'only the listed characters are token bytes');
    assert.equal(tokenBytes('x', { nonAscii: true })[0xc3], 0xc3);
    assert.equal(tokenBytes('x')[0xc3], 0);
    assert.equal(tokenBytes('\n\r-x')[10], 0, 'line ends always separate');
  });

  it('refuses non-ASCII characters and descending ranges', () => {
    assert.throws(() => tokenBytes('a-é'), /ASCII characters and ascending ranges/);
    assert.throws(() => tokenBytes('z-a'), /ASCII characters and ascending ranges/);
  });
});
