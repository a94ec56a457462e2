// The manager's whole REST API, run against the embedded database (PGlite) and a real PostgreSQL
// server that this file starts and stops itself. Jobs run on real worker processes.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { readParts } from './helpers.ts';
import { ADMIN_PASSWORD, JWT_SECRET, resetPostgres, startTestManager, type DbKind, type TestManager } from './support/manager-harness.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const SAMPLE = readFileSync(join(import.meta.dirname, '..', 'examples', 'data', 'sample.txt'));

for (const kind of ['pglite', 'postgres'] as const satisfies readonly DbKind[]) {
  describe(`manager API on ${kind}`, () => {
    let postgres: PostgresServer | undefined;
    let m: TestManager;
    let admin: string;

    before(async () => {
      if (kind === 'postgres') {
        postgres = await startPostgres();
        await resetPostgres(postgres.url);
      }
      m = await startTestManager(kind, { ...(postgres ? { postgresUrl: postgres.url } : {}), env: { TORPEDO_MAX_UPLOAD_BYTES: '100000' } });
      admin = await m.login('admin', ADMIN_PASSWORD);
    });
    after(async () => {
      await m?.close();
      await postgres?.stop();
    });

    test('register, login, me, logout: a logged-out token is refused', async () => {
      const reg = await m.call('POST', '/auth/register', { json: { username: 'alice', password: 'alice-password' } });
      assert.equal(reg.status, 201);
      assert.deepEqual(reg.json.roles, ['submit_jobs', 'track_jobs', 'read_storage', 'write_storage']);
      assert.equal((await m.call('POST', '/auth/register', { json: { username: 'alice', password: 'another-password' } })).status, 409);
      const login = await m.call('POST', '/auth/login', { json: { username: 'alice', password: 'alice-password' } });
      assert.equal(login.status, 200);
      assert.ok(Date.parse(login.json.expiresAt) > Date.now());
      const token = login.json.token as string;
      const me = await m.call('GET', '/auth/me', { token });
      assert.deepEqual(me.json, { username: 'alice', roles: ['submit_jobs', 'track_jobs', 'read_storage', 'write_storage'] });
      assert.equal((await m.call('POST', '/auth/logout', { token })).status, 204);
      const after = await m.call('GET', '/auth/me', { token });
      assert.equal(after.status, 401);
      assert.equal(after.json.error.code, 'TORPEDO_ERR_UNAUTHENTICATED');
      assert.match(after.json.error.message, /revoked/);
      // Another login still works: logout revoked only that token.
      assert.equal((await m.call('GET', '/auth/me', { token: await m.login('alice', 'alice-password') })).status, 200);
    });

    test('registering with roles: ["admin"] is refused and creates nobody', async () => {
      const res = await m.call('POST', '/auth/register', { json: { username: 'mallory', password: 'mallory-password', roles: ['admin'] } });
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'TORPEDO_ERR_BAD_REQUEST');
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'mallory', password: 'mallory-password' } })).status, 401);
      const users = await m.call('GET', '/users', { token: admin });
      assert.ok(!users.json.users.some((u: { username: string }) => u.username === 'mallory'));
    });

    test('bad credentials and bad input: 401 and 400 with coded errors', async () => {
      const wrong = await m.call('POST', '/auth/login', { json: { username: 'admin', password: 'not-the-password' } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(Object.keys(wrong.json.error).sort(), ['code', 'message']);
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'admin' } })).status, 400);
      assert.equal((await m.call('POST', '/auth/register', { json: { username: '../x', password: 'long-enough' } })).status, 400);
      assert.equal((await m.call('POST', '/auth/register', { json: { username: 'shorty', password: 'short' } })).status, 400);
      assert.equal((await m.call('GET', '/no/such/route', { token: admin })).json.error.code, 'TORPEDO_ERR_NOT_FOUND');
    });

    test('forged, expired, malformed and missing tokens are 401', async () => {
      const forged = await new SignJWT({ name: 'admin', ver: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('torpedo')
        .setSubject('1')
        .setJti('x')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('some-other-secret-of-enough-length-000000'));
      const expired = await new SignJWT({ name: 'admin', ver: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('torpedo')
        .setSubject('1')
        .setJti('y')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(JWT_SECRET));
      const [header, payload] = admin.split('.');
      const unsigned = `${header}.${payload}.`;
      const noneAlg = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      for (const token of [forged, expired, unsigned, noneAlg, 'garbage']) {
        const res = await m.call('GET', '/auth/me', { token });
        assert.equal(res.status, 401, token);
        assert.equal(res.json.error.code, 'TORPEDO_ERR_UNAUTHENTICATED');
      }
      assert.match((await m.call('GET', '/auth/me', { token: expired })).json.error.message, /expired/);
      assert.equal((await m.call('GET', '/datasets')).status, 401);
    });

    test("disabling a user, or changing their password, revokes their tokens; roles apply at once", async () => {
      const token = await m.newUser('bob');
      assert.equal((await m.call('GET', '/datasets', { token })).status, 200);
      assert.equal((await m.call('PATCH', '/users/bob', { token: admin, json: { roles: ['track_jobs'] } })).status, 200);
      const forbidden = await m.call('GET', '/datasets', { token });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.json.error.code, 'TORPEDO_ERR_FORBIDDEN');
      assert.equal((await m.call('PATCH', '/users/bob', { token: admin, json: { disabled: true } })).status, 200);
      assert.equal((await m.call('GET', '/auth/me', { token })).status, 401);
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'bob', password: 'bob-password' } })).status, 401);
      await m.call('PATCH', '/users/bob', { token: admin, json: { disabled: false } });
      const again = await m.login('bob', 'bob-password');
      assert.equal((await m.call('PATCH', '/users/bob', { token: admin, json: { password: 'new-bob-password' } })).status, 200);
      assert.equal((await m.call('GET', '/auth/me', { token: again })).status, 401);
      assert.equal((await m.call('GET', '/auth/me', { token: await m.login('bob', 'new-bob-password') })).status, 200);
    });

    test('a user changes their own password: the current one is checked, old tokens are revoked, a new token works', async () => {
      const old = await m.newUser('quinn');
      const other = await m.login('quinn', 'quinn-password');
      assert.equal((await m.call('POST', '/auth/password', { token: old, json: { currentPassword: 'wrong-password', newPassword: 'quinn-new-password' } })).status, 401);
      assert.equal((await m.call('POST', '/auth/password', { token: old, json: { currentPassword: 'quinn-password', newPassword: 'short' } })).status, 400);
      const res = await m.call('POST', '/auth/password', { token: old, json: { currentPassword: 'quinn-password', newPassword: 'quinn-new-password' } });
      assert.equal(res.status, 200, res.body);
      for (const t of [old, other]) assert.equal((await m.call('GET', '/auth/me', { token: t })).status, 401);
      assert.equal((await m.call('GET', '/auth/me', { token: res.json.token })).json.username, 'quinn');
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'quinn', password: 'quinn-new-password' } })).status, 200);
    });

    test('user administration needs manage_users; only an admin grants admin', async () => {
      const carol = await m.newUser('carol');
      assert.equal((await m.call('GET', '/users', { token: carol })).status, 403);
      const created = await m.call('POST', '/users', { token: admin, json: { username: 'dave', password: 'dave-password', roles: ['manage_users'] } });
      assert.equal(created.status, 201);
      assert.deepEqual(created.json.roles, ['manage_users']);
      const dave = await m.login('dave', 'dave-password');
      assert.equal((await m.call('GET', '/users', { token: dave })).status, 200);
      const escalate = await m.call('PATCH', '/users/carol', { token: dave, json: { roles: ['admin'] } });
      assert.equal(escalate.status, 403);
      assert.equal((await m.call('PATCH', '/users/carol', { token: dave, json: { roles: ['track_jobs', 'read_storage'] } })).status, 200);
      assert.equal((await m.call('PATCH', '/users/admin', { token: dave, json: { disabled: true } })).status, 403);
      assert.equal((await m.call('PATCH', '/users/carol', { token: admin, json: { roles: ['nonsense'] } })).status, 400);
      assert.equal((await m.call('DELETE', '/users/nobody', { token: admin })).status, 404);
      assert.equal((await m.call('DELETE', '/users/carol', { token: admin })).status, 204);
      assert.equal((await m.call('GET', '/auth/me', { token: carol })).status, 401);
    });

    test('datasets: upload raw and multipart, list, download, overwrite rules, delete', async () => {
      const token = await m.newUser('erin');
      const up = await m.call('POST', '/datasets?name=books.txt', { token, body: SAMPLE, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(up.status, 201, up.body);
      assert.equal(up.json.size, SAMPLE.length);
      assert.match(up.json.sha256, /^[0-9a-f]{64}$/);
      assert.equal((await m.call('POST', '/datasets?name=books.txt', { token, body: 'x', headers: { 'content-type': 'text/plain' } })).status, 409);
      // A JSON file is stored as it is, not parsed.
      const asJson = await m.call('POST', '/datasets?name=data.json&overwrite=true', { token, body: '{"a": 1}\n', headers: { 'content-type': 'application/json' } });
      assert.equal(asJson.status, 201);
      assert.equal((await m.call('GET', '/datasets/data.json', { token })).body, '{"a": 1}\n');
      const boundary = 'torpedoBoundary';
      const multipart = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.txt"\r\nContent-Type: text/plain\r\n\r\n`),
        SAMPLE,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const mp = await m.call('POST', '/datasets?name=multi', { token, body: multipart, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      assert.equal(mp.status, 201, mp.body);
      assert.equal(mp.json.size, SAMPLE.length);
      const list = await m.call('GET', '/datasets', { token });
      assert.deepEqual(list.json.datasets.map((d: { name: string }) => d.name), ['books.txt', 'data.json', 'multi']);
      const down = await m.call('GET', '/datasets/multi', { token });
      assert.equal(down.status, 200);
      assert.equal(down.body, SAMPLE.toString());
      assert.equal((await m.call('DELETE', '/datasets/multi', { token })).status, 204);
      assert.equal((await m.call('GET', '/datasets/multi', { token })).status, 404);
    });

    test("another user's dataset and job are 404; admins see everyone's", async () => {
      const frank = await m.newUser('frank');
      const grace = await m.newUser('grace');
      await m.call('POST', '/datasets?name=private', { token: frank, body: SAMPLE });
      assert.equal((await m.call('GET', '/datasets/private', { token: grace })).status, 404);
      assert.equal((await m.call('DELETE', '/datasets/private', { token: grace })).status, 404);
      assert.equal((await m.call('GET', '/datasets/private?owner=frank', { token: grace })).status, 404);
      assert.equal((await m.call('GET', '/datasets', { token: grace })).json.datasets.length, 0);
      assert.equal((await m.call('GET', '/datasets/private?owner=frank', { token: admin })).status, 200);
      const sub = await m.call('POST', '/jobs', { token: frank, json: { example: 'wordcount', inputs: ['private'] } });
      assert.equal(sub.status, 201, sub.body);
      // Grace cannot use Frank's dataset as an input either.
      assert.equal((await m.call('POST', '/jobs', { token: grace, json: { example: 'wordcount', inputs: ['private'] } })).status, 400);
      for (const path of ['', '/events', '/output', '/output/part-r-00000']) {
        assert.equal((await m.call('GET', `/jobs/${sub.json.id}${path}`, { token: grace })).status, 404, path);
      }
      assert.equal((await m.call('DELETE', `/jobs/${sub.json.id}`, { token: grace })).status, 404);
      assert.ok(!(await m.call('GET', '/jobs', { token: grace })).json.jobs.some((j: { id: string }) => j.id === sub.json.id));
      assert.ok((await m.call('GET', '/jobs', { token: admin })).json.jobs.some((j: { id: string }) => j.id === sub.json.id));
      await m.waitForJob(frank, sub.json.id);
    });

    test('dataset names with ../, /, NUL, control characters are 400 and nothing is written outside the namespace', async () => {
      const token = await m.newUser('heidi');
      const before = listTree(m.home);
      for (const name of ['..', '../escape', '../../etc/passwd', 'a/b', '%2e%2e%2fx', 'a%00b', '.hidden', 'tab%09name', 'new%0Aline', '']) {
        const res = await m.call('POST', `/datasets?name=${name}`, { token, body: 'data\n' });
        assert.equal(res.status, 400, `${name}: ${res.body}`);
        assert.equal(res.json.error.code, 'TORPEDO_ERR_BAD_REQUEST');
      }
      assert.equal((await m.call('GET', '/datasets/..%2F..%2Fjwt-secret', { token })).status, 400);
      assert.deepEqual(listTree(m.home), before);
    });

    test('an upload over the limit is 413 and leaves no dataset, and keeps the one it would replace', async () => {
      const token = await m.newUser('ivan');
      await m.call('POST', '/datasets?name=keep', { token, body: SAMPLE });
      const big = Buffer.alloc(100_001, 97);
      const res = await m.call('POST', '/datasets?name=big', { token, body: big });
      assert.equal(res.status, 413);
      assert.equal(res.json.error.code, 'TORPEDO_ERR_TOO_LARGE');
      const replace = await m.call('POST', '/datasets?name=keep&overwrite=true', { token, body: big });
      assert.equal(replace.status, 413);
      // Without a Content-Length (chunked), the limit is enforced while streaming.
      const list = await m.call('GET', '/datasets', { token });
      assert.deepEqual(list.json.datasets.map((d: { name: string; size: number }) => [d.name, d.size]), [['keep', SAMPLE.length]]);
      assert.equal((await m.call('GET', '/datasets/keep', { token })).body, SAMPLE.toString());
      const dir = join(m.home, 'datasets');
      const leftovers = listTree(dir).filter((p) => p.includes('.upload-') || p.endsWith('/big'));
      assert.deepEqual(leftovers, []);
    });

    test('a user without submit_jobs gets 403 on POST /jobs', async () => {
      const token = await m.newUser('judy');
      await m.call('POST', '/datasets?name=in', { token, body: SAMPLE });
      await m.call('PATCH', '/users/judy', { token: admin, json: { roles: ['track_jobs', 'read_storage', 'write_storage'] } });
      const res = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['in'] } });
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, 'TORPEDO_ERR_FORBIDDEN');
    });

    test('wordcount job: submit, status with phases and tasks, output equals the CLI run', async () => {
      const token = await m.newUser('kim');
      await m.call('POST', '/datasets?name=sample', { token, body: SAMPLE });
      const sub = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 3, workers: 2 } });
      assert.equal(sub.status, 201, sub.body);
      const job = await m.waitForJob(token, sub.json.id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.phases.reduce, { done: 3, total: 3 });
      assert.deepEqual(job.outputParts, ['part-r-00000', 'part-r-00001', 'part-r-00002']);
      assert.ok(job.tasks.length >= 4);
      for (const t of job.tasks) {
        assert.equal(t.state, 'done');
        assert.match(t.attempts[0].worker, /^w\d+$/);
        assert.ok(Date.parse(t.attempts[0].endedAt) >= Date.parse(t.attempts[0].startedAt));
      }
      assert.equal(job.counters['map input bytes'], SAMPLE.length);
      const parts = readParts(join(m.home, 'jobs', sub.json.id, 'output'));
      const out = await m.call('GET', `/jobs/${sub.json.id}/output`, { token });
      assert.equal(out.status, 200);
      assert.equal(out.body, parts.join(''));
      assert.match(out.body, /^the\t\d+$/m);
      assert.equal((await m.call('GET', `/jobs/${sub.json.id}/output/part-r-00001`, { token })).body, parts[1]);
      assert.equal((await m.call('GET', `/jobs/${sub.json.id}/output/..%2F..%2Fjob.ts`, { token })).status, 404);
      assert.equal((await m.call('POST', `/jobs/${sub.json.id}/cancel`, { token })).status, 409);
      const list = await m.call('GET', '/jobs', { token });
      assert.equal(list.json.jobs[0].id, sub.json.id);
      assert.equal(list.json.jobs[0].status, 'succeeded');
    });

    test('submitted TypeScript code runs; syntax, type and shape errors are 400 with file:line', async () => {
      const token = await m.newUser('leo');
      await m.call('POST', '/datasets?name=in', { token, body: SAMPLE });
      const code = [
        "import { defineJob, sum } from 'torpedo';",
        'export default defineJob({',
        '  map(line: string, emit) { for (const w of line.split(/\\s+/)) if (w.length > 6) emit(w.toLowerCase(), 1); },',
        '  combine: sum,',
        '  reduce: sum,',
        '});',
      ].join('\n');
      const ok = await m.call('POST', '/jobs', { token, json: { code, inputs: ['in'], reducers: 1 } });
      assert.equal(ok.status, 201, ok.body);
      const job = await m.waitForJob(token, ok.json.id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      const out = (await m.call('GET', `/jobs/${ok.json.id}/output`, { token })).body;
      assert.ok(out.length > 0);
      for (const line of out.trim().split('\n')) assert.ok(line.split('\t')[0]!.length > 6, line);

      const syntax = await m.call('POST', '/jobs', { token, json: { code: 'export default {\n  map(line) { emit(line, 1) \n', inputs: ['in'] } });
      assert.equal(syntax.status, 400);
      assert.equal(syntax.json.error.code, 'TORPEDO_ERR_JOB_SYNTAX');
      assert.match(syntax.json.error.message, /^job\.ts:3:\d+/m);
      const types = await m.call('POST', '/jobs', { token, json: { code: "import { defineJob } from 'torpedo';\nexport default defineJob({ map(line: string, emit) { const n: number = line; emit(line, n); }, reduce(k, v, emit) { emit(k, 1); } });\n", inputs: ['in'] } });
      assert.equal(types.status, 400);
      assert.match(types.json.error.message, /^job\.ts:2:\d+: error TS2322/m);
      const shape = await m.call('POST', '/jobs', { token, json: { code: 'export default { map() {} };', language: 'js', inputs: ['in'] } });
      assert.equal(shape.status, 400);
      assert.equal(shape.json.error.code, 'TORPEDO_ERR_JOB_SHAPE');
      const both = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', code: 'x', inputs: ['in'] } });
      assert.equal(both.status, 400);
      assert.equal((await m.call('POST', '/jobs', { token, json: { example: 'nope', inputs: ['in'] } })).status, 400);
      assert.equal((await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: [] } })).status, 400);
      assert.equal((await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['in'], reducers: -1 } })).status, 400);
      // Nothing of the refused submissions is left behind.
      const jobs = (await m.call('GET', '/jobs', { token })).json.jobs;
      assert.equal(jobs.length, 1);
      assert.deepEqual(readdirSync(join(m.home, 'jobs')).filter((d) => !d.startsWith('job-')), []);
    });

    test('20 wrong passwords get 429 with Retry-After; other users can still log in', async () => {
      await m.newUser('mike');
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 20; i++) {
        const res = await m.call('POST', '/auth/login', { json: { username: 'mike', password: `wrong-${i}` } });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers['retry-after'];
      }
      assert.equal(statuses[0], 401);
      assert.equal(statuses[19], 429);
      assert.ok(Number(retryAfter) > 0);
      // Even the right password is refused while the limit holds.
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'mike', password: 'mike-password' } })).status, 429);
      assert.equal((await m.call('POST', '/auth/login', { json: { username: 'admin', password: ADMIN_PASSWORD } })).status, 200);
    });

    test('healthz, readyz, metrics and the OpenAPI document', async () => {
      assert.equal((await m.call('GET', '/healthz')).status, 200);
      const ready = await m.call('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.equal(ready.json.database, kind);
      // An admin's token (or TORPEDO_METRICS_TOKEN: test/manager-hardening.test.ts) reads the metrics.
      const metrics = (await m.call('GET', '/metrics', { token: admin })).body;
      assert.match(metrics, /^torpedo_jobs\{status="succeeded"\} [1-9]/m);
      assert.match(metrics, /^torpedo_tasks_total\{kind="map",outcome="succeeded"\} [1-9]/m);
      assert.match(metrics, /^torpedo_http_requests_total\{method="POST",route="\/auth\/login",status="200"\} [1-9]/m);
      const doc = (await m.call('GET', '/openapi.json')).json;
      assert.equal(doc.openapi.slice(0, 2), '3.');
      for (const path of ['/auth/login', '/users/{name}', '/datasets', '/jobs', '/jobs/{id}/events', '/metrics']) assert.ok(doc.paths[path], path);
      assert.equal((await m.call('GET', '/docs/')).status, 200);
    });
  });
}

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) out.push(join(e.parentPath, e.name));
  return out.sort();
}
