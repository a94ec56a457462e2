import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { isTorpedoError } from '../errors.ts';
import { readManifest } from '../protocol/output-manifest.ts';
import { commitJob } from './commit-job.ts';
import { layoutForOutput, reducePartPath } from './job-layout.ts';
import { saveTaskCounters } from './task-counters.ts';

const crc32Hex = (text: string): string => crc32(text).toString(16).padStart(8, '0');

/** An output directory whose `_temporary/reduce/` holds R committed parts. */
function committedReduces(t: { after: (f: () => void) => void }, parts: readonly string[]) {
  const output = mkdtempSync(join(tmpdir(), 'torpedo-commit-'));
  t.after(() => rmSync(output, { recursive: true, force: true }));
  const layout = layoutForOutput(output);
  mkdirSync(layout.reduce, { recursive: true });
  parts.forEach((text, r) => writeFileSync(reducePartPath(layout, r), text));
  return { output, layout };
}

test('commitJob moves the parts, writes their manifest in _SUCCESS and removes _temporary/', async (t) => {
  const { output, layout } = committedReduces(t, ['123456789', '']);
  await commitJob(layout, 2);
  assert.deepEqual(readdirSync(output).sort(), ['_SUCCESS', 'part-r-00000', 'part-r-00001']);
  assert.deepEqual((await readManifest(output)).parts, [
    { name: 'part-r-00000', bytes: 9, crc32: 'cbf43926' },
    { name: 'part-r-00001', bytes: 0, crc32: '00000000' },
  ]);
});

test('a commit resumed after some parts were moved lists them all', async (t) => {
  const { output, layout } = committedReduces(t, ['a\n', 'b\n']);
  renameSync(reducePartPath(layout, 0), join(output, 'part-r-00000'));
  await commitJob(layout, 2);
  assert.deepEqual((await readManifest(output)).parts.map((p) => [p.name, p.bytes]), [['part-r-00000', 2], ['part-r-00001', 2]]);
});

test('a commit aborted while it reads the parts writes no _SUCCESS and keeps _temporary/ for a resume', async (t) => {
  const { output, layout } = committedReduces(t, ['a\n']);
  const abort = new AbortController();
  const committing = commitJob(layout, 1, abort.signal);
  abort.abort();
  await assert.rejects(committing, { name: 'AbortError' });
  assert.ok(existsSync(join(output, 'part-r-00000')), 'the parts were moved before the abort');
  assert.ok(!existsSync(join(output, '_SUCCESS')));
  assert.ok(existsSync(layout.workDir));
});

test('the commit takes each part checksum its reducer noted, without reading the part; a part of another size fails the commit loudly', async (t) => {
  const { output, layout } = committedReduces(t, ['123456789', 'ab\n', 'xyz\n']);
  // What Master.done notes of reduces 0 and 1. The CRC noted for part 0 is not the file's: the
  // manifest carrying it shows the part was not read back. Part 2 has no note: it is read.
  saveTaskCounters(layout, 'reduce-00000', { counters: {}, userCounters: {}, part: { bytes: 9, crc32: '0badf00d' } });
  saveTaskCounters(layout, 'reduce-00001', { counters: {}, userCounters: {}, part: { bytes: 3, crc32: crc32Hex('ab\n') } });
  await commitJob(layout, 3);
  assert.deepEqual((await readManifest(output)).parts, [
    { name: 'part-r-00000', bytes: 9, crc32: '0badf00d' },
    { name: 'part-r-00001', bytes: 3, crc32: crc32Hex('ab\n') },
    { name: 'part-r-00002', bytes: 4, crc32: crc32Hex('xyz\n') },
  ]);

  const cut = committedReduces(t, ['12345']);
  saveTaskCounters(cut.layout, 'reduce-00000', { counters: {}, userCounters: {}, part: { bytes: 9, crc32: 'cbf43926' } });
  await assert.rejects(commitJob(cut.layout, 1), (e: unknown) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_CORRUPT_DATA' && /part-r-00000 is 5 bytes but its reducer wrote 9/.test(e.message));
  assert.ok(!existsSync(join(cut.output, '_SUCCESS')), 'no manifest blesses a changed part');
  assert.ok(existsSync(cut.layout.workDir), '_temporary/ is kept');
});
