// A full disk under the manager (issue: "Correct or loud", item 2): the manager's datasets and
// jobs directories are small tmpfs mounts (the tests run as root in CI). An upload that does not
// fit is 507 TORPEDO_ERR_NO_SPACE and keeps nothing; a job whose output does not fit fails with
// a clear error and does not hang; the manager stays up, and what it stored before is intact.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { removeDir, tempDir } from './helpers.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';

const ADMIN_PASSWORD = 'disk-full-admin-password-1';
const root = process.getuid?.() === 0;

/** `n` distinct words, one per line: a word count's output is as large as its input. */
function distinctWords(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`word${i.toString(36)}x${(i * 7919).toString(36)}`);
  return `${lines.join('\n')}\n`;
}

describe('a full disk under the manager', { skip: root ? false : 'mounting a small tmpfs needs root' }, () => {
  const dir = tempDir('torpedo-disk-full-');
  const home = join(dir, 'home');
  const mounts: string[] = [];
  let m: ManagerProcess | undefined;
  after(() => {
    m?.child.kill('SIGKILL');
    for (const mount of mounts.reverse()) execFileSync('umount', ['-l', mount]);
    removeDir(dir);
  });

  test('an upload that does not fit is 507 and keeps nothing; a job whose output does not fit fails; the manager stays up', async () => {
    for (const [sub, size] of [['datasets', '4m'], ['jobs', '1m']] as const) {
      const path = join(home, sub);
      mkdirSync(path, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path]);
      mounts.push(path);
    }
    m = await startManagerProcess(home, { TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_LOG: 'off' });
    const login = await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
    const token = login.json.token as string;
    const words = distinctWords(100_000); // about 1.6 MB: fits the datasets, not the jobs' space
    assert.equal((await api(m.url, 'POST', '/datasets?name=words', token, words)).status, 201);

    const big = await api(m.url, 'POST', '/datasets?name=big', token, 'x'.repeat(6 * 1024 * 1024)).catch((e: unknown) => assert.fail(`${String(e)}: ${m?.output()}`));
    assert.equal(big.status, 507, big.text);
    assert.equal(big.json?.error?.code, 'TORPEDO_ERR_NO_SPACE');
    assert.match(big.json.error.message, /storage is full/);
    assert.deepEqual(readdirSync(join(home, 'datasets', '1')), ['words'], 'no temporary file, no partial dataset');
    assert.deepEqual((await api(m.url, 'GET', '/datasets', token)).json.datasets.map((d: { name: string }) => d.name), ['words']);
    assert.equal((await api(m.url, 'GET', '/datasets/words', token)).text, words, 'what was stored before is intact');

    const sub = await api(m.url, 'POST', '/jobs', token, { example: 'wordcount', inputs: ['words'], reducers: 2, workers: 1 });
    assert.equal(sub.status, 201, sub.text);
    const end = await waitForJobEnd(m.url, token, sub.json.id, 120_000);
    assert.equal(end.status, 'failed', `a job that cannot write its output fails: ${JSON.stringify(end)}`);
    assert.match(JSON.stringify(end.error), /space|ENOSPC/i, 'its error says the storage is full');
    assert.equal(m.child.exitCode, null, `the manager is still up:\n${m.output()}`);

    const small = await api(m.url, 'POST', '/datasets?name=small', token, 'a b c\n');
    assert.equal(small.status, 201, 'the manager goes on once something fits');
    assert.ok(existsSync(join(home, 'datasets', '1', 'small')));
  });
});
