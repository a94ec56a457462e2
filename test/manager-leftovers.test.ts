// A manager killed in the middle of an upload (issue: "Correct or loud", item 6): killed while the
// body streams in, it leaves a temporary file; killed between publishing the file and saving its
// row, a file nobody lists that keeps its name taken. The next start removes both, so the names
// are free again and nothing is left behind. Real manager processes on the embedded database.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { removeDir, tempDir } from './helpers.ts';
import { api, startManagerProcess } from './support/manager-process.ts';

const ADMIN_PASSWORD = 'leftovers-admin-password-1';
const ENV = { TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD };

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function login(url: string): Promise<string> {
  const r = await api(url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
  assert.equal(r.status, 200, r.text);
  return r.json.token as string;
}

/** Every file in the datasets directory, as owner/name. */
function storedFiles(home: string): string[] {
  const root = join(home, 'datasets');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((owner) => readdirSync(join(root, owner)).map((name) => `${owner}/${name}`)).sort();
}

async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dir = tempDir('torpedo-leftovers-');
after(() => removeDir(dir));

test('uploads cut by a killed manager leave no file behind and no name taken after the next start', async () => {
  const home = join(dir, 'home');
  const body = 'one two three\n'.repeat(20_000);

  // 1. Killed between publishing the file and saving its row (fault injection at that point).
  const a = await startManagerProcess(home, { ...ENV, TORPEDO_TEST_CRASH_AFTER_PUBLISH: 'published' });
  const cut = await api(a.url, 'POST', '/datasets?name=published', await login(a.url), body).catch((e: unknown) => e as Error);
  assert.ok(cut instanceof Error, 'the request breaks off with the manager');
  await exited(a.child);
  assert.deepEqual(storedFiles(home), ['1/published'], 'the file was published, its row never saved');

  // The next start removes it, and says so.
  const b = await startManagerProcess(home, ENV);
  assert.deepEqual(storedFiles(home), [], 'the unlisted file is gone');
  assert.match(b.output(), /removed 1 upload a stopped manager left unfinished: 1\/published/);

  // 2. Killed while the body streams in.
  const token = await login(b.url);
  const req = request(`${b.url}/datasets?name=streaming`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) } });
  req.on('error', () => {});
  req.write(body.slice(0, body.length / 2));
  await until('the upload to reach a temporary file', () => storedFiles(home).some((f) => f.startsWith('1/.upload-')));
  b.child.kill('SIGKILL');
  await exited(b.child);
  req.destroy();
  assert.equal(storedFiles(home).filter((f) => f.startsWith('1/.upload-')).length, 1, 'a temporary file is left');

  // 3. The next start removes the temporary file; both names are free.
  const c = await startManagerProcess(home, ENV);
  try {
    assert.deepEqual(storedFiles(home), [], 'nothing is left of either upload');
    assert.match(c.output(), /removed 1 upload a stopped manager left unfinished: 1\/\.upload-/);
    const t = await login(c.url);
    assert.deepEqual((await api(c.url, 'GET', '/datasets', t)).json.datasets, []);
    for (const name of ['published', 'streaming']) {
      const up = await api(c.url, 'POST', `/datasets?name=${name}`, t, body);
      assert.equal(up.status, 201, `${name}: ${up.text}`);
    }
    assert.deepEqual(storedFiles(home), ['1/published', '1/streaming']);
  } finally {
    c.child.kill('SIGKILL');
    await exited(c.child);
  }
});
