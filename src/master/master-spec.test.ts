import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JOB_SETTINGS } from '../protocol/job-settings.ts';
import { parseMasterSpec, readSpecJson, specPath } from './master-spec.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'torpedo');

test('a job.json written before a setting existed loads with its default (a --resume after an upgrade)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'in.txt'), 'a b\n');
  const prepared = spawnSync(process.execPath, [BIN, 'run', 'wordcount', '--input', join(dir, 'in.txt'), '--output', join(dir, 'out'), '--prepare-only', '--merge-factor', '7'], { encoding: 'utf8' });
  assert.equal(prepared.status, 0, prepared.stderr);
  const path = specPath(prepared.stdout.trim());
  const json = readSpecJson(path);
  assert.equal(parseMasterSpec(json, path).mergeFactor, 7);
  // As an older version wrote it: without the settings added since.
  const { logCapBytes, mergeFactor, ...older } = json;
  assert.equal(typeof logCapBytes, 'number');
  assert.equal(mergeFactor, 7);
  const spec = parseMasterSpec(older, path);
  assert.equal(spec.logCapBytes, JOB_SETTINGS.logCapBytes.default);
  assert.equal(spec.mergeFactor, JOB_SETTINGS.mergeFactor.default);
  // A setting present but wrong is still refused.
  assert.throws(() => parseMasterSpec({ ...older, mergeFactor: -1 }, path), /is not a torpedo job spec/);
});
