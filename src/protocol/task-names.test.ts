import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AttemptIdSchema,
  MapRunNameSchema,
  NAMED_OUTPUT,
  PartNameSchema,
  TaskNameSchema,
  attemptId,
  mapPartName,
  mapRunName,
  namedOutputName,
  parseAttemptId,
  parseMapRunName,
  parsePartName,
  parseTaskName,
  partCompression,
  partName,
  taskName,
} from './task-names.ts';

test('the names are the ones on disk and in logs, byte for byte', () => {
  assert.equal(partName(0), 'part-r-00000');
  assert.equal(partName(42), 'part-r-00042');
  assert.equal(mapRunName(3), 'map-00003.run');
  assert.equal(taskName({ kind: 'map', index: 3 }), 'map-00003');
  assert.equal(taskName({ kind: 'reduce', index: 1 }), 'reduce-00001');
  assert.equal(taskName({ kind: 'setup', index: 0 }), 'setup-00000');
  assert.equal(attemptId({ kind: 'map', index: 3 }, 0), 'map-00003-a0');
  assert.equal(attemptId({ kind: 'reduce', index: 12 }, 11), 'reduce-00012-a11');
});

test('numbers past five digits get more digits, as %05d does', () => {
  assert.equal(partName(123456), 'part-r-123456');
  assert.equal(parsePartName('part-r-123456'), 123456);
  assert.equal(taskName({ kind: 'map', index: 99999 }), 'map-99999');
  assert.equal(mapRunName(100000), 'map-100000.run');
});

test('every name parses back to what made it', () => {
  for (const n of [0, 1, 9, 10, 99, 12345, 99999, 100000, 2 ** 31]) {
    assert.equal(parsePartName(partName(n)), n);
    assert.equal(parseMapRunName(mapRunName(n)), n);
    for (const kind of ['setup', 'map', 'reduce'] as const) {
      assert.deepEqual(parseTaskName(taskName({ kind, index: n })), { kind, index: n });
      for (const attempt of [0, 1, 10]) assert.deepEqual(parseAttemptId(attemptId({ kind, index: n }, attempt)), { kind, index: n, attempt });
    }
  }
});

test('a map-only job\'s parts (part-m-) and named outputs (good-r-) are names too', () => {
  assert.equal(PartNameSchema.safeParse(mapPartName(3, 'gzip')).success, true);
  assert.equal(mapPartName(3, 'gzip'), 'part-m-00003.gz');
  assert.equal(namedOutputName('good', 'r', 12, 'bzip2'), 'good-r-00012.bz2');
  assert.equal(NAMED_OUTPUT.test('good-r-00012.bz2'), true);
  for (const bad of ['good-x-00001', '1good-r-00001', 'go-od-r-00001', 'good-r-001']) assert.equal(NAMED_OUTPUT.test(bad), false, bad);
});

test('anything else is not a name: other kinds, fewer digits, padding a formatter never writes, suffixes', () => {
  for (const name of ['part-r-0000', 'part-r-000001', 'part-r-00000.tmp', 'part-x-00000', 'part-m-0000', '_SUCCESS', 'part-r-', 'part-r--0001', 'part-r-00000.gz.tmp', 'part-r-00000.zip', 'part-r-00000.']) {
    assert.equal(parsePartName(name), undefined, name);
    assert.equal(PartNameSchema.safeParse(name).success, false, name);
  }
  for (const name of ['map-00003', 'map-0003.run', 'reduce-00003.run', 'map-00003.run.tmp']) {
    assert.equal(parseMapRunName(name), undefined, name);
    assert.equal(MapRunNameSchema.safeParse(name).success, false, name);
  }
  for (const name of ['combine-00001', 'map-1', 'map-00001-a0', 'Map-00001', ' map-00001']) {
    assert.equal(parseTaskName(name), undefined, name);
    assert.equal(TaskNameSchema.safeParse(name).success, false, name);
  }
  for (const id of ['map-00001', 'map-00001-a', 'map-00001-a01', 'map-00001-b0', 'w1-m0-a0']) {
    assert.equal(parseAttemptId(id), undefined, id);
    assert.equal(AttemptIdSchema.safeParse(id).success, false, id);
  }
});

test('the schemas accept what the formatters write', () => {
  assert.equal(PartNameSchema.parse(partName(7)), 'part-r-00007');
  assert.equal(MapRunNameSchema.parse(mapRunName(7)), 'map-00007.run');
  assert.equal(TaskNameSchema.parse(taskName({ kind: 'reduce', index: 7 })), 'reduce-00007');
  assert.equal(AttemptIdSchema.parse(attemptId({ kind: 'setup', index: 0 }, 2)), 'setup-00000-a2');
});

test('a compressed part is named with its codec\'s extension, and the name says the codec', () => {
  assert.equal(partName(3, 'gzip'), 'part-r-00003.gz');
  assert.equal(partName(3, 'zstd'), 'part-r-00003.zst');
  assert.equal(partName(3, 'bzip2'), 'part-r-00003.bz2');
  assert.equal(partName(3, 'none'), 'part-r-00003');
  for (const c of ['none', 'gzip', 'zstd', 'bzip2'] as const) {
    assert.equal(parsePartName(partName(42, c)), 42);
    assert.equal(partCompression(partName(42, c)), c);
    assert.equal(PartNameSchema.safeParse(partName(42, c)).success, true);
  }
});
