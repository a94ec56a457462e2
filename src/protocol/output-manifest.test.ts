import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { isTorpedoError, type ErrorCode } from '../errors.ts';
import { checksumFile, MANIFEST_FILE, parseManifest, readManifest, verifyOutput, writeManifest, type OutputManifest } from './output-manifest.ts';

function tempDir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-manifest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The manifest of the parts `names` of `dir`, each read for its checksum. */
async function buildManifest(dir: string, names: readonly string[]): Promise<OutputManifest> {
  const parts: OutputManifest['parts'] = [];
  for (const name of names) parts.push({ name, ...(await checksumFile(join(dir, name))) });
  return { format: 'torpedo-manifest-1', algorithm: 'crc32', parts };
}

/** Asserts that `f` throws a TorpedoError with `code` whose message matches `message`. */
function throwsCode(f: () => unknown, code: ErrorCode, message: RegExp): void {
  assert.throws(f, (e: unknown) => isTorpedoError(e) && e.code === code && message.test(e.message));
}

test('checksumFile: the standard check value, an empty file, and a file of several chunks read whole', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'check'), '123456789');
  assert.deepEqual(await checksumFile(join(dir, 'check')), { bytes: 9, crc32: 'cbf43926' });
  writeFileSync(join(dir, 'empty'), '');
  assert.deepEqual(await checksumFile(join(dir, 'empty')), { bytes: 0, crc32: '00000000' });
  const big = randomBytes(3.5 * (1 << 20));
  writeFileSync(join(dir, 'big'), big);
  assert.deepEqual(await checksumFile(join(dir, 'big')), { bytes: big.length, crc32: crc32(big).toString(16).padStart(8, '0') });
});

test('a manifest written and read back is the same; the write leaves no temporary file', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '_temporary'));
  writeFileSync(join(dir, 'part-r-00000'), '123456789');
  writeFileSync(join(dir, 'part-r-00001'), '');
  const manifest = await buildManifest(dir, ['part-r-00000', 'part-r-00001']);
  assert.deepEqual(manifest, {
    format: 'torpedo-manifest-1',
    algorithm: 'crc32',
    parts: [
      { name: 'part-r-00000', bytes: 9, crc32: 'cbf43926' },
      { name: 'part-r-00001', bytes: 0, crc32: '00000000' },
    ],
  });
  await writeManifest(manifest, join(dir, MANIFEST_FILE), join(dir, '_temporary', 'manifest.tmp'));
  assert.deepEqual(await readManifest(dir), manifest);
  assert.deepEqual(readdirSync(join(dir, '_temporary')), []);
  assert.equal(readFileSync(join(dir, MANIFEST_FILE), 'utf8'), `${JSON.stringify(manifest)}\n`);
});

test('checksumFile stops when its signal is aborted', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'part-r-00000'), 'x');
  await assert.rejects(checksumFile(join(dir, 'part-r-00000'), AbortSignal.abort()), { name: 'AbortError' });
});

test('parseManifest: an empty _SUCCESS is an older output; not JSON or not a manifest is corrupt, naming the field', () => {
  const good: OutputManifest = { format: 'torpedo-manifest-1', algorithm: 'crc32', parts: [{ name: 'part-r-00000', bytes: 1, crc32: '0a0b0c0d' }] };
  assert.deepEqual(parseManifest(JSON.stringify(good), 'out/_SUCCESS'), good);
  throwsCode(() => parseManifest('', 'out/_SUCCESS'), 'TORPEDO_ERR_NO_MANIFEST', /out\/_SUCCESS is empty: .*before checksum manifests/);
  throwsCode(() => parseManifest('{"format":"torpedo-manifest-1","alg', 'out/_SUCCESS'), 'TORPEDO_ERR_CORRUPT_DATA', /out\/_SUCCESS is not a JSON manifest/);
  const bad: [unknown, RegExp][] = [
    [{ ...good, format: 'torpedo-manifest-2' }, /at format:/],
    [{ ...good, algorithm: 'md5' }, /at algorithm:/],
    [{ ...good, parts: [{ ...good.parts[0], name: '../../etc/passwd' }] }, /at parts\.0\.name: expected a part name/],
    [{ ...good, parts: [{ ...good.parts[0], crc32: '0A0B0C0D' }] }, /at parts\.0\.crc32: expected 8 lowercase hex digits/],
    [{ ...good, parts: [{ ...good.parts[0], bytes: -1 }] }, /at parts\.0\.bytes:/],
    [{ ...good, parts: [good.parts[0], good.parts[0]] }, /a part is listed twice/],
    [[], /at the top level/],
  ];
  for (const [json, message] of bad) throwsCode(() => parseManifest(JSON.stringify(json), 'out/_SUCCESS'), 'TORPEDO_ERR_CORRUPT_DATA', message);
});

test('readManifest says why there is none: no directory, no _SUCCESS, an unfinished job', async (t) => {
  const dir = tempDir(t);
  const rejects = (path: string, message: RegExp): Promise<void> =>
    assert.rejects(readManifest(path), (e: unknown) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_NO_MANIFEST' && message.test(e.message));
  await rejects(join(dir, 'nothing'), /does not exist/);
  writeFileSync(join(dir, 'file'), '');
  await rejects(join(dir, 'file'), /is not a directory/);
  await rejects(dir, /has no _SUCCESS: it is not the output of a job that succeeded/);
  mkdirSync(join(dir, '_temporary'));
  await rejects(dir, /has no _SUCCESS but a _temporary\/ \(the job is running, failed or was interrupted\)/);
});

test('verifyOutput: each listed part ok, of the wrong size or CRC, missing or not a file; unlisted part-* files; other files ignored', async (t) => {
  const dir = tempDir(t);
  const names = ['part-r-00000', 'part-r-00001', 'part-r-00002', 'part-r-00003', 'part-r-00004'];
  for (const name of names) writeFileSync(join(dir, name), `contents of ${name}\n`);
  await writeManifest(await buildManifest(dir, names), join(dir, MANIFEST_FILE), join(dir, 'manifest.tmp'));
  assert.deepEqual((await verifyOutput(dir)).map((c) => c.verdict), ['ok', 'ok', 'ok', 'ok', 'ok']);

  writeFileSync(join(dir, 'part-r-00001'), 'contents of part-r-00001'); // one byte short
  writeFileSync(join(dir, 'part-r-00002'), 'contents of part-r-00009\n'); // same size
  rmSync(join(dir, 'part-r-00003'));
  rmSync(join(dir, 'part-r-00004'));
  symlinkSync(join(dir, 'part-r-00000'), join(dir, 'part-r-00004'));
  writeFileSync(join(dir, 'part-r-00005'), 'stray\n');
  writeFileSync(join(dir, 'part-m-00000'), 'stray\n');
  writeFileSync(join(dir, 'notes.txt'), 'not a part\n');
  const seen: string[] = [];
  const checks = await verifyOutput(dir, (c) => seen.push(c.name));
  assert.deepEqual(
    checks.map((c) => [c.name, c.verdict]),
    [
      ['part-r-00000', 'ok'],
      ['part-r-00001', 'wrong-size'],
      ['part-r-00002', 'wrong-crc'],
      ['part-r-00003', 'missing'],
      ['part-r-00004', 'missing'],
      ['part-m-00000', 'unlisted'],
      ['part-r-00005', 'unlisted'],
    ],
  );
  assert.deepEqual(seen, checks.map((c) => c.name), 'each check is reported as it is made');
  assert.deepEqual(checks[1]?.found, { bytes: 24 }, 'a part of the wrong size is not read');
  assert.notEqual(checks[2]?.found?.crc32, checks[2]?.expected?.crc32);
  assert.match(checks[4]?.note ?? '', /not a regular file \(a symbolic link\)/);
});
