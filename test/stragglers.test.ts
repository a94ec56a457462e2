import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

/** Backup tasks (the paper's section 3.6): a straggler's backup attempt finishes the phase early. */
let dir: string;
let input: string;
const JOB = join(ROOT, 'test', 'jobs', 'straggler.mjs');
const LINES = Array.from({ length: 12 }, (_, i) => (i === 5 ? 'SLOW record 05' : `record ${String(i).padStart(2, '0')}`));

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  writeFileSync(input, `${LINES.join('\n')}\n`);
});
after(() => removeDir(dir));

async function run(extra: string[]): Promise<{ secs: number; summary: Record<string, any>; out: string }> {
  const out = join(dir, `out-${extra.length}`);
  const started = Date.now();
  const r = await runCli(['run', JOB, '--input', input, '--output', out, '--json', '--split-size', '30B', '--workers', '2', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { secs: (Date.now() - started) / 1000, summary: jsonSummary(r), out };
}

describe('stragglers', () => {
  it('with backup tasks the job ends soon after its peers; without, it waits for the sleeper', async () => {
    const backed = await run([]);
    const waited = await run(['--no-backup-tasks']);
    assert.ok(backed.secs < 4.5, `with backups: ${backed.secs} s`);
    assert.ok(waited.secs >= 6, `without backups: ${waited.secs} s`);
    const map = backed.summary['phases']['map'];
    assert.ok(map['backupAttempts'] >= 1, 'a backup attempt ran');
    assert.ok(map['killedAttempts'] >= 1, 'the straggler was stopped when its backup committed');
    assert.equal(waited.summary['phases']['map']['backupAttempts'], 0);
    const expected = `${[...LINES].sort().join('\n')}\n`;
    assert.equal(readParts(backed.out).join(''), expected);
    assert.equal(readParts(waited.out).join(''), expected);
  });
});
