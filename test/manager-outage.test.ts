// A PostgreSQL outage under a running manager (issue: "Correct or loud"): the real server is shut
// down mid-job with `pg_ctl stop -m fast` and, in a second run, `-m immediate` (a crash). While it
// is down, every endpoint that needs the database answers 503 TORPEDO_ERR_DB_UNAVAILABLE with
// Retry-After, and the manager process stays up. A job that ends during the outage has its end
// saved once the database is back, and the job queued behind it then starts and succeeds.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readParts, removeDir, runCli, ROOT, tempDir } from './helpers.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';

const PACED = readFileSync(join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), 'utf8');
const ADMIN_PASSWORD = 'outage-admin-password-1';

/** 20k lines of words: about 4 s of the paced word count on one worker. */
function corpus(): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  const lines: string[] = [];
  let x = 11;
  for (let i = 0; i < 20_000; i++) {
    const line: string[] = [];
    for (let j = 0; j < 6 + (i % 7); j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      line.push(words[x % words.length]! + (x % 53));
    }
    lines.push(line.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts an upload of `name` and sends its first half; the returned function sends the rest and
 * resolves with the answer's status and body.
 */
function halfUpload(url: string, token: string, name: string, body: string): Promise<(rest?: boolean) => Promise<{ status: number; text: string }>> {
  return new Promise((resolve, reject) => {
    let answer: (a: { status: number; text: string }) => void = () => {};
    const answered = new Promise<{ status: number; text: string }>((r) => (answer = r));
    const req = request(`${url}/datasets?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => answer({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half), () =>
      resolve(async () => {
        req.end(body.slice(half));
        return answered;
      }),
    );
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const mode of ['fast', 'immediate'] as const) {
  describe(`a PostgreSQL outage (pg_ctl stop -m ${mode}) under a running manager`, () => {
    let pg: PostgresServer;
    let m: ManagerProcess;
    const dir = tempDir('torpedo-outage-');
    after(async () => {
      m?.child.kill('SIGKILL');
      await pg?.stop();
      removeDir(dir);
    });

    test('503 with Retry-After while it is down, the manager stays up, a job that ended meanwhile is saved and the queue moves on', async () => {
      // Commits as durable as in production: an immediate stop is a crash, and loses no committed row.
      pg = await startPostgres({ durableCommits: true });
      m = await startManagerProcess(join(dir, 'home'), {
        DATABASE_URL: pg.url,
        TORPEDO_JWT_SECRET: 'outage-test-secret-that-is-long-enough-for-hs256',
        TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TORPEDO_MAX_RUNNING_JOBS: '1',
      });
      const login = await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
      assert.equal(login.status, 200, login.text);
      const token = login.json.token as string;
      const text = corpus();
      writeFileSync(join(dir, 'corpus.txt'), text);
      assert.equal((await api(m.url, 'POST', '/datasets?name=corpus', token, text)).status, 201);
      const submit = (): Promise<string> =>
        api(m.url, 'POST', '/jobs', token, { code: PACED, language: 'js', inputs: ['corpus'], maps: 4, reducers: 2, workers: 1 }).then((r) => {
          assert.equal(r.status, 201, `${r.text}\n--- manager output ---\n${m.output()}`);
          return r.json.id as string;
        });
      const first = await submit();
      const second = await submit(); // queued behind the first: one job runs at a time
      await until('the first job to run', async () => ((await api(m.url, 'GET', `/jobs/${first}`, token)).json.status === 'running' ? true : undefined));

      await pg.pause(mode);
      for (const [method, path, body] of [
        ['GET', '/jobs', undefined],
        ['GET', `/jobs/${first}`, undefined],
        ['GET', '/datasets', undefined],
        ['POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD }],
        ['POST', '/jobs', { example: 'wordcount', inputs: ['corpus'] }],
      ] as const) {
        const r = await api(m.url, method, path, method === 'POST' && path === '/auth/login' ? undefined : token, body);
        assert.equal(r.status, 503, `${method} ${path} while the database is down: ${r.status} ${r.text}`);
        assert.equal(r.json?.error?.code, 'TORPEDO_ERR_DB_UNAVAILABLE', r.text);
        assert.match(r.headers.get('retry-after') ?? '', /^\d+$/, `${method} ${path}: Retry-After`);
      }
      assert.equal((await api(m.url, 'GET', '/healthz')).status, 200, 'the process is alive and says so');
      assert.equal((await api(m.url, 'GET', '/readyz')).status, 503);
      // The first job ends while the database is down: its end is kept.
      await until('the first job to end during the outage', () => (/the end of job \S+ is kept/.test(m.output()) ? true : undefined), 90_000);
      assert.equal(m.child.exitCode, null, `the manager died:\n${m.output()}`);

      await pg.resume();
      const firstEnd = await waitForJobEnd(m.url, token, first);
      assert.equal(firstEnd.status, 'succeeded', JSON.stringify(firstEnd.error));
      const secondEnd = await waitForJobEnd(m.url, token, second);
      assert.equal(secondEnd.status, 'succeeded', JSON.stringify(secondEnd.error));
      assert.equal(m.child.exitCode, null, 'the manager is still up');

      // Both outputs are the job's right answer, as `torpedo run` computes it.
      const expected = join(dir, 'expected');
      const run = await runCli(['run', join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs'), '--input', join(dir, 'corpus.txt'), '--output', expected, '--maps', '4', '--reducers', '2', '--no-progress']);
      assert.equal(run.code, 0, run.stderr);
      const want = readParts(expected).join('');
      for (const id of [first, second]) {
        const out = await api(m.url, 'GET', `/jobs/${id}/output`, token);
        assert.equal(out.status, 200);
        assert.equal(out.text, want, `job ${id}'s output`);
      }
    });

    test('an upload cut by the outage is refused with 503 and leaves its name free', async () => {
      const login = await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD });
      const token = login.json.token as string;
      const body = 'one two three\n'.repeat(50_000);
      const finish = await halfUpload(m.url, token, 'cut', body);
      await new Promise((r) => setTimeout(r, 300)); // the manager has checked the name and is writing
      await pg.pause(mode);
      const cut = await finish();
      assert.equal(cut.status, 503, cut.text);
      assert.match(cut.text, /TORPEDO_ERR_DB_UNAVAILABLE/);
      await pg.resume();
      const listed = await until('the database to answer', async () => {
        const r = await api(m.url, 'GET', '/datasets', token);
        return r.status === 200 ? r.json : undefined;
      });
      assert.deepEqual(
        listed.datasets.map((d: { name: string }) => d.name),
        ['corpus'],
        'the cut upload is not listed',
      );
      const again = await api(m.url, 'POST', '/datasets?name=cut', token, body);
      assert.equal(again.status, 201, `the name is free: ${again.text}`);
      assert.equal(m.child.exitCode, null, 'the manager is still up');
    });
  });
}
