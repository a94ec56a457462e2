// The manager as users run it: `torpedo manager` as a real process on the embedded database.
// A manager stopped in the middle of a job — gently or with SIGKILL — finishes it after a restart
// from the tasks it had committed; production mode refuses an unsafe JWT secret; the first start
// makes an admin account.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { api, startManagerProcess, type ManagerProcess } from './support/manager-process.ts';

const PACED = readFileSync(join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), 'utf8');

function startManager(home: string, env: Record<string, string> = {}): Promise<ManagerProcess> {
  return startManagerProcess(home, env);
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** About 1.5 MB of words in 20k lines. */
function corpus(): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
  const lines: string[] = [];
  let x = 7;
  for (let i = 0; i < 20_000; i++) {
    const n = 5 + (i % 11);
    const line: string[] = [];
    for (let j = 0; j < n; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      line.push(words[x % words.length]! + (x % 97));
    }
    lines.push(line.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

describe('torpedo manager (real process)', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) removeDir(d);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`a manager stopped mid-job with ${signal} finishes the job after a restart, from its committed tasks`, async () => {
      const dir = tempDir('torpedo-restart-');
      dirs.push(dir);
      const home = join(dir, 'home');
      const env = { TORPEDO_ADMIN_PASSWORD: 'admin-password-1', TORPEDO_JWT_SECRET: 'a-test-secret-that-is-long-enough-000000' };
      let m = await startManager(home, env);
      children.push(m.child);
      const token = (await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: 'admin-password-1' })).json.token as string;
      const text = corpus();
      writeFileSync(join(dir, 'corpus.txt'), text);
      assert.equal((await api(m.url, 'POST', '/datasets?name=corpus', token, text)).status, 201);
      const sub = await api(m.url, 'POST', '/jobs', token, { code: PACED, language: 'js', inputs: ['corpus'], maps: 12, reducers: 2, workers: 2 });
      assert.equal(sub.status, 201, sub.text);
      const id = sub.json.id as string;
      // Stop once some, but not all, map tasks have committed.
      for (;;) {
        const j = (await api(m.url, 'GET', `/jobs/${id}`, token)).json;
        assert.equal(j.status === 'queued' || j.status === 'running', true, JSON.stringify(j.error));
        if (j.phases.map.done >= 3) {
          assert.ok(j.phases.map.done < j.phases.map.total, 'the job was stopped too late to test anything');
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      m.child.kill(signal);
      await stopped(m.child);

      m = await startManager(home, env);
      children.push(m.child);
      assert.match(m.output(), new RegExp(`resuming job ${id}`));
      // The token from before the restart still works: the secret and revocations are durable.
      let job;
      for (;;) {
        job = (await api(m.url, 'GET', `/jobs/${id}`, token)).json;
        if (job.status !== 'running' && job.status !== 'queued') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      const reused = job.tasks.filter((t: { kind: string; reused: boolean }) => t.kind === 'map' && t.reused).length;
      assert.ok(reused >= 3, `map tasks reused from before the restart: ${reused}`);
      // The output is what an uninterrupted run gives.
      const expected = join(dir, 'expected');
      const cli = await runCli(['run', join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), '--input', join(dir, 'corpus.txt'), '--output', expected, '--maps', '12', '--reducers', '2', '--no-progress']);
      assert.equal(cli.code, 0, cli.stderr);
      const output = await api(m.url, 'GET', `/jobs/${id}/output`, token);
      assert.equal(output.text, readParts(expected).join(''));
      m.child.kill('SIGTERM');
      await stopped(m.child);
    });
  }

  test('the first start creates admin with a password printed once, alone, to stderr, never in the JSON log', async () => {
    const home = tempDir('torpedo-first-');
    dirs.push(home);
    const first = await startManager(home);
    children.push(first.child);
    const m = /created the account admin\. Its password, shown only this once[^\n]*\n(\S+)\n/.exec(first.stderr());
    const password = m?.[1];
    assert.ok(password !== undefined, first.stderr());
    assert.equal((await api(first.url, 'POST', '/auth/login', undefined, { username: 'admin', password })).status, 200);
    // The UI polls: successful reads are not logged at info; a change (the login) is.
    for (let i = 0; i < 5; i++) assert.equal((await api(first.url, 'GET', '/healthz')).status, 200);
    first.child.kill('SIGTERM');
    await stopped(first.child);
    const log = first.stdout().trim().split('\n');
    const lines = log.map((l) => JSON.parse(l) as { level: number; msg: string; req?: { method: string; url: string } });
    assert.ok(!first.stdout().includes(password), 'the password is in the log');
    assert.ok(lines.some((l) => /created the account admin/.test(l.msg)), first.stdout());
    assert.ok(lines.some((l) => /listening on http:/.test(l.msg)), first.stdout());
    assert.ok(lines.some((l) => l.req?.url === '/auth/login'), 'a login is logged');
    assert.ok(!lines.some((l) => l.req?.url === '/healthz'), 'a poll is logged at info');
    assert.equal(first.stderr().split(password).length, 2, 'the password is printed once');
    const second = await startManager(home);
    children.push(second.child);
    assert.doesNotMatch(second.output(), /created the account/);
    assert.equal((await api(second.url, 'POST', '/auth/login', undefined, { username: 'admin', password })).status, 200);
    second.child.kill('SIGTERM');
    await stopped(second.child);
  });

  test('production mode refuses a missing, short or default JWT secret', async () => {
    const home = tempDir('torpedo-prod-');
    dirs.push(home);
    for (const secret of [undefined, 'short', 'torpedo-development-secret']) {
      const r = await runCli(['manager', '--port', '0', '--home', home], {
        env: { NODE_ENV: 'production', TORPEDO_JWT_SECRET: secret ?? '' , ...(secret === undefined ? { TORPEDO_JWT_SECRET: undefined } : {}) } as NodeJS.ProcessEnv,
        timeoutMs: 30_000,
      });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /TORPEDO_ERR_CONFIG: NODE_ENV=production needs TORPEDO_JWT_SECRET/);
    }
  });
});
