// What differs when the manager is not root (CI runs as root, so this test makes a manager of
// `nobody`): bubblewrap then works only in user namespaces, with the manager's own uid outside
// them, so users' code cannot get a uid of its own. The manager says so at start and refuses
// job modules and streaming commands (503) unless its operator accepts that, with
// TORPEDO_ALLOW_WEAK_SANDBOX=true; built-in examples still run.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureBundle } from '../src/job/probe-job.ts';
import { ROOT, removeDir, tempDir } from './helpers.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';

const NOBODY = 65_534;

/** Why this cannot run here, if it cannot: root to switch users, and torpedo's files readable by nobody. */
function cannot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to start a manager as another user';
  for (let d = ROOT; d !== '/'; d = dirname(d)) {
    try {
      accessSync(d, constants.X_OK);
    } catch {
      return `${d} is not passable`;
    }
  }
  return undefined;
}

const PROBE = `export default {
  map(line, emit) {
    emit('uid ' + process.getuid(), null);
    emit('env ' + Object.keys(process.env).sort().join(','), null);
  },
  reduce(k, vs, emit) { emit(k, null); },
};
`;

describe('a manager that is not root', { skip: cannot() ?? false }, () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) removeDir(d);
  });

  async function manager(env: Record<string, string>): Promise<{ m: ManagerProcess; token: string }> {
    await ensureBundle(); // nobody cannot write torpedo's build cache
    const dir = tempDir('torpedo-nobody-');
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const home = join(dir, 'home');
    mkdirSync(home);
    chownSync(home, NOBODY, NOBODY);
    const m = await startManagerProcess(home, { TORPEDO_ADMIN_PASSWORD: 'admin-password-1', ...env }, { asUid: NOBODY, cleanEnv: true });
    children.push(m.child);
    const token = (await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: 'admin-password-1' })).json.token as string;
    assert.equal((await api(m.url, 'POST', '/datasets?name=words', token, 'a b a\n')).status, 201);
    return { m, token };
  }

  test('says at start that users’ code cannot be confined, refuses it with 503, and still runs built-in examples', async () => {
    const { m, token } = await manager({});
    assert.match(m.output(), /WARNING: users' code cannot be fully confined here \(bubblewrap in a user namespace \(not root/);
    const code = await api(m.url, 'POST', '/jobs', token, { code: PROBE, language: 'js', inputs: ['words'], workers: 1 });
    assert.equal(code.status, 503, code.text);
    assert.equal(code.json.error.code, 'TORPEDO_ERR_SANDBOX');
    assert.match(code.json.error.message, /TORPEDO_ALLOW_WEAK_SANDBOX=true/);
    const streaming = await api(m.url, 'POST', '/jobs', token, { mapper: 'cat', reducer: 'cat', inputs: ['words'], workers: 1 });
    assert.equal(streaming.status, 503);
    const builtin = await api(m.url, 'POST', '/jobs', token, { example: 'wordcount', inputs: ['words'], workers: 1, reducers: 1 });
    assert.equal(builtin.status, 201, builtin.text);
    assert.equal((await waitForJobEnd(m.url, token, builtin.json.id)).status, 'succeeded');
    assert.equal((await api(m.url, 'GET', `/jobs/${builtin.json.id}/output`, token)).text, 'a\t2\nb\t1\n');
  });

  test('with TORPEDO_ALLOW_WEAK_SANDBOX=true, users’ code runs in namespaces, as the manager’s uid, with a clean environment', async () => {
    const { m, token } = await manager({ TORPEDO_ALLOW_WEAK_SANDBOX: 'true', TORPEDO_JWT_SECRET: 'a-secret-of-the-nobody-manager-000000000000' });
    assert.match(m.output(), /WARNING: users' code cannot be fully confined here .*; it runs anyway/);
    const job = await api(m.url, 'POST', '/jobs', token, { code: PROBE, language: 'js', inputs: ['words'], workers: 1, reducers: 1 });
    assert.equal(job.status, 201, job.text);
    const done = await waitForJobEnd(m.url, token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const lines = (await api(m.url, 'GET', `/jobs/${job.json.id}/output`, token)).text.trim().split('\n');
    assert.ok(lines.includes(`uid ${NOBODY}`), 'the same uid as the manager: what full confinement would change');
    const env = lines.find((l) => l.startsWith('env '));
    assert.doesNotMatch(env ?? '', /JWT|PASSWORD|ADMIN/);
  });
});
