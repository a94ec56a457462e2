import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng, randomText } from '../../test/prng.ts';
import { compareAsciiOrder, compareKeys, hasHighUnits } from './key-order.ts';

describe('key order is UTF-8 byte order', () => {
  it('compareKeys agrees with Buffer.compare on random strings with astral and U+E000+ characters', () => {
    const rand = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const a = randomText(rand, 6);
      const b = rand() < 0.3 ? a + randomText(rand, 2) : randomText(rand, 6);
      assert.equal(Math.sign(compareKeys(a, b)), Buffer.compare(Buffer.from(a), Buffer.from(b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });

  it('the case where UTF-16 order differs is handled, and detected', () => {
    const astral = '😀'; // U+1F600: surrogates D83D DE00
    const high = '\uFF01'; // U+FF01 sorts below U+1F600 in UTF-8 but above its surrogates in UTF-16
    assert.equal(compareAsciiOrder(astral, high), -1);
    assert.equal(compareKeys(astral, high), 1);
    assert.ok(hasHighUnits(astral) && hasHighUnits(high) && !hasHighUnits('plain é'));
  });
});
