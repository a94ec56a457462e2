import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

/** User code runs confined: it reads its inputs and writes its job's directory, nothing else. */
let dir: string;
let input: string;
let secret: string;
const ESCAPES = join(ROOT, 'test', 'jobs', 'escapes.mjs');
let runs = 0;

before(() => {
  dir = tempDir();
  input = join(dir, 'in.txt');
  writeFileSync(input, 'one line\n');
  secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'not for jobs\n');
});
after(() => removeDir(dir));

async function attempt(action: string, extra: string[] = []): Promise<Record<string, any>> {
  const out = join(dir, `out-${runs++}`);
  const r = await runCli(['run', ESCAPES, '--input', input, '--output', out, '--json', '--max-attempts', '1', '--param', `action=${action}`, ...extra]);
  return { ...jsonSummary(r), exitCode: r.code, out };
}

describe('sandboxed workers', () => {
  it('reading a file that is not an input is refused', async () => {
    const s = await attempt('read', ['--param', `path=${secret}`]);
    assert.equal(s['exitCode'], 1);
    assert.match(s['error']['message'], /map threw .*Access to this API has been restricted/);
  });
  it('writing outside the job directory is refused', async () => {
    const target = join(dir, 'escaped.txt');
    const s = await attempt('write', ['--param', `path=${target}`]);
    assert.equal(s['exitCode'], 1);
    assert.match(s['error']['message'], /Access to this API has been restricted/);
    assert.ok(!existsSync(target));
  });
  it('starting a process is refused', async () => {
    const s = await attempt('spawn');
    assert.equal(s['exitCode'], 1);
    assert.match(s['error']['message'], /Access to this API has been restricted/);
  });
  it('reading an input is allowed, and --no-sandbox lifts the confinement', async () => {
    const ok = await attempt('read', ['--param', `path=${input}`]);
    assert.equal(ok['status'], 'succeeded');
    const free = await attempt('read', ['--param', `path=${secret}`, '--no-sandbox']);
    assert.equal(free['status'], 'succeeded');
    assert.match(readParts(free['out']).join(''), /not for jobs/);
  });
});
