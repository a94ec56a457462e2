import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prng, randomText } from '../../test/prng.ts';
import { defaultPartition, hashBytes, hashString } from './partition.ts';

describe('default partitioner', () => {
  it('hashes the UTF-8 bytes: strings and their encoded bytes agree', () => {
    const rand = prng(3);
    for (let i = 0; i < 5000; i++) {
      const s = randomText(rand, 8);
      const b = Buffer.from(s);
      assert.equal(hashString(s), hashBytes(b, 0, b.length));
    }
    const lone = '\ud800x'; // a lone surrogate encodes as U+FFFD, as Buffer.from does
    assert.equal(hashString(lone), hashBytes(Buffer.from(lone), 0, Buffer.from(lone).length));
  });

  it('is stable: which key lands in which part file is part of the output contract', () => {
    // FNV-1a 32-bit reference values.
    assert.equal(hashString(''), 0x811c9dc5);
    assert.equal(hashString('a'), 0xe40c292c);
    assert.equal(hashString('foobar'), 0xbf9cf968);
    assert.equal(defaultPartition('foobar', 7), 0xbf9cf968 % 7);
  });

  it('stays in [0, R)', () => {
    const rand = prng(5);
    for (let i = 0; i < 2000; i++) {
      const r = 1 + Math.floor(rand() * 50);
      const p = defaultPartition(randomText(rand, 5), r);
      assert.ok(Number.isInteger(p) && p >= 0 && p < r);
    }
  });
});
