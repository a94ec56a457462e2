// The Storage conformance suite (test/support/storage-conformance.ts) against every
// implementation: a local directory, and S3Storage on each S3 server that runs here, on loopback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHiddenKey, LocalStorage } from '../src/storage/index.ts';
import { removeDir, tempDir } from './helpers.ts';
import { describeStorageConformance } from './support/storage-conformance.ts';

describeStorageConformance('local directory', async () => {
  const dir = tempDir('torpedo-storage-');
  return { storage: new LocalStorage(dir), close: async () => removeDir(dir) };
});

test('isHiddenKey: a name past the prefix starting with _ or . is hidden, the prefix itself is not looked at', () => {
  assert.equal(isHiddenKey('in/_SUCCESS', 'in/'), true);
  assert.equal(isHiddenKey('in/.part.crc', 'in/'), true);
  assert.equal(isHiddenKey('in/_temporary/0/part', 'in/'), true);
  assert.equal(isHiddenKey('_in/a.txt', '_in/'), false);
  assert.equal(isHiddenKey('in/a_b.txt', 'in/'), false);
});

