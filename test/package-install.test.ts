// Installing torpedo prints no warning a newcomer must puzzle over: no dependency that refuses
// this Node (EBADENGINE), and no install script npm has not been told about (allowScripts).
// `npm ci --dry-run --offline` checks both against package-lock.json without installing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeDir, ROOT, tempDir } from './helpers.ts';

test('npm ci warns of no engine mismatch and no unreviewed install script', (t) => {
  const dir = tempDir('torpedo-install-');
  t.after(() => removeDir(dir));
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
  const r = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => /^npm warn/.test(l));
  assert.deepEqual(warnings.filter((l) => /EBADENGINE|install-scripts/.test(l)), [], r.stderr);
});
