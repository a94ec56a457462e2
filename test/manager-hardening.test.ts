// The manager's HTTP-layer defences (issue 14), each against the real manager on the embedded
// database (PGlite) and on a real PostgreSQL server: no token in the request log; event streams
// that end once their token is revoked; login limiting by device token and username (OWASP's
// device cookies); usernames unique regardless of case and Unicode form; PATCH bodies that change
// nothing; no framing of any page; /metrics behind a token; request and body timeouts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { ApiClient, ApiError } from '../src/cli/client/api-client.ts';
import { followJob } from '../src/cli/client/follow-job.ts';
import { readSse } from '../src/cli/client/sse.ts';
import { openDatabase } from '../src/manager/database/database.ts';
import { jobs } from '../src/manager/database/schema.ts';
import { findUserByName } from '../src/manager/users.ts';
import { ensureWebBuild } from '../src/manager/web-build.ts';
import { ROOT } from './helpers.ts';
import { ADMIN_PASSWORD, JWT_SECRET, resetPostgres, startTestManager, type DbKind, type TestManager } from './support/manager-harness.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const MIGRATIONS = join(ROOT, 'src', 'manager', 'database', 'migrations');

interface Event {
  readonly event: string;
  readonly data: any;
}

/** An open GET /jobs/:id/events: the events so far, and when (performance.now()) the server ended it. */
interface EventStream {
  readonly events: Event[];
  readonly ended: Promise<number>;
}

async function openEvents(url: string, id: string, token: string): Promise<EventStream> {
  const res = await fetch(`${url}/jobs/${id}/events?token=${token}`);
  if (res.status !== 200) assert.fail(`GET /jobs/${id}/events: ${res.status} ${await res.text()}`);
  const events: Event[] = [];
  let first: () => void = () => {};
  const started = new Promise<void>((resolve) => (first = resolve));
  const ended = (async () => {
    for await (const e of readSse(res.body as unknown as AsyncIterable<Uint8Array>)) {
      events.push({ event: e.event, data: JSON.parse(e.data) });
      first();
    }
    return performance.now();
  })();
  await started;
  return { events, ended };
}

/**
 * A job row that stays `running`: as a job running on another replica looks to this one. The
 * stream of a running job stays open until the job ends, so the only thing that can end these
 * is the token check; no engine process is involved.
 */
async function runningJob(m: TestManager, owner: string): Promise<string> {
  const db = m.manager.context.database.db;
  const user = await findUserByName(db, owner);
  assert.ok(user);
  const id = `hardening-${randomBytes(6).toString('hex')}`;
  await db.insert(jobs).values({ id, ownerId: user.id, job: 'wordcount', spec: { inputs: ['none'], reducers: 1, workers: 1, params: {} }, status: 'running', phase: 'map', startedAt: new Date() });
  return id;
}

/** The claims of a real token, signed again with another expiry. */
async function withExpiry(token: string, exp: number): Promise<string> {
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  return new SignJWT({ ...claims, exp }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(JWT_SECRET));
}

/**
 * A raw HTTP/1.1 connection: writes `head` at once, then calls `trickle` (which writes the rest as
 * slowly as it likes, and stops once the connection is closed), and collects what the server
 * answers until it closes the connection. `closedAfter` is measured from the connection's start.
 */
async function slowClient(base: string, head: string, trickle: (write: (b: string | Buffer) => boolean) => Promise<void> = async () => {}): Promise<{ response: string; closedAfter: number }> {
  const { hostname, port } = new URL(base);
  const socket = connect({ host: hostname, port: Number(port) });
  await once(socket, 'connect');
  const started = performance.now();
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => performance.now() - started);
  if (head !== '') socket.write(head);
  const write = (b: string | Buffer): boolean => {
    if (socket.destroyed || !socket.writable) return false;
    socket.write(b);
    return true;
  };
  void trickle(write);
  const closedAfter = await closed;
  return { response, closedAfter };
}

/** Calls `write` every `everyMs` with `chunk` until it reports the connection gone, or `limit` times. */
async function drip(write: (b: string | Buffer) => boolean, chunk: string | Buffer, everyMs: number, limit = 1000): Promise<void> {
  for (let i = 0; i < limit && write(chunk); i++) await new Promise((r) => setTimeout(r, everyMs));
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

function bodyOf(response: string): any {
  const at = response.indexOf('\r\n\r\n');
  return JSON.parse(response.slice(at + 4));
}

/** Files of the datasets tree, temporary uploads (.upload-*) included. */
function datasetFiles(home: string): string[] {
  const dir = join(home, 'datasets');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

for (const kind of ['pglite', 'postgres'] as const satisfies readonly DbKind[]) {
  describe(`manager hardening on ${kind}`, () => {
    let postgres: PostgresServer | undefined;
    const where = (): { postgresUrl?: string } => (postgres !== undefined ? { postgresUrl: postgres.url } : {});

    before(async () => {
      if (kind === 'postgres') postgres = await startPostgres();
    });
    after(async () => {
      await postgres?.stop();
    });

    test('the username migration refuses a database with names that differ only in case, naming them, and changes nothing', async () => {
      // A database as the first migration left it, with users that 0001 would make clash.
      const old = mkdtempSync(join(tmpdir(), 'torpedo-migrations-'));
      try {
        cpSync(join(MIGRATIONS, '0000_initial.sql'), join(old, '0000_initial.sql'));
        cpSync(join(MIGRATIONS, 'meta'), join(old, 'meta'), { recursive: true });
        const journal = JSON.parse(readFileSync(join(old, 'meta', '_journal.json'), 'utf8'));
        journal.entries = journal.entries.slice(0, 1);
        writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
        const options = { migrationsFolder: old, migrationsSchema: 'torpedo', migrationsTable: 'migrations' };
        let query: (sql: string) => Promise<any[]>;
        let open: () => ReturnType<typeof openDatabase>;
        let close: () => Promise<void>;
        if (postgres !== undefined) {
          await resetPostgres(postgres.url);
          const { default: pg } = await import('pg');
          const { drizzle } = await import('drizzle-orm/node-postgres');
          const { migrate } = await import('drizzle-orm/node-postgres/migrator');
          const pool = new pg.Pool({ connectionString: postgres.url });
          await migrate(drizzle(pool), options);
          query = async (sql) => (await pool.query(sql)).rows;
          const url = postgres.url;
          open = () => openDatabase({ url });
          close = () => pool.end();
        } else {
          const { PGlite } = await import('@electric-sql/pglite');
          const { drizzle } = await import('drizzle-orm/pglite');
          const { migrate } = await import('drizzle-orm/pglite/migrator');
          const client = await PGlite.create();
          await migrate(drizzle(client), options);
          query = async (sql) => (await client.query(sql)).rows as any[];
          open = () => openDatabase({ pglite: client });
          close = () => client.close();
        }
        try {
          await query("insert into torpedo.users (username, password_hash, roles) values ('admin', 'x', '{}'), ('Admin', 'x', '{}'), ('bob', 'x', '{}'), ('BoB', 'x', '{}'), ('carol', 'x', '{}')");
          await assert.rejects(open(), (e: any) => {
            assert.equal(e.code, 'TORPEDO_ERR_MIGRATION');
            assert.match(e.message, /differ only in case: admin, Admin; bob, BoB; rename or delete all but one/);
            return true;
          });
          assert.equal((await query('select count(*)::int as n from torpedo.migrations'))[0].n, 1, 'the refused migration is not recorded');
          assert.equal((await query('select count(*)::int as n from torpedo.users'))[0].n, 5);
          // Once an administrator has renamed them, the migration goes through.
          await query("update torpedo.users set username = 'admin2' where username = 'Admin'");
          await query("delete from torpedo.users where username = 'BoB'");
          const migrated = await open();
          if (migrated.kind === 'postgres') await migrated.close();
          await assert.rejects(query("insert into torpedo.users (username, password_hash, roles) values ('CAROL', 'x', '{}')"), /users_username_lower/);
        } finally {
          await close();
        }
      } finally {
        rmSync(old, { recursive: true, force: true });
      }
    });

    describe('logs, event streams, logins, usernames, pages', () => {
      let m: TestManager;
      let url: string;
      let admin: string;
      const log: string[] = [];

      before(async () => {
        if (postgres !== undefined) await resetPostgres(postgres.url);
        await ensureWebBuild();
        // At debug: a read that succeeds (the event stream) is logged only there, and must not leak either.
        m = await startTestManager(kind, { ...where(), logger: { level: 'debug', stream: { write: (line) => void log.push(line) } } });
        url = await m.manager.app.listen({ host: '127.0.0.1', port: 0 });
        admin = await m.login('admin', ADMIN_PASSWORD);
      });
      after(async () => {
        await m?.close();
      });

      test('no token appears in the request log, though the event stream takes ?token=', async () => {
        const token = await m.newUser('lena');
        const id = await runningJob(m, 'lena');
        const events = await openEvents(url, id, token);
        assert.equal(events.events[0]?.event, 'job');
        assert.equal((await fetch(`${url}/jobs/no-such-job/events?token=${token}`)).status, 404);
        assert.equal((await fetch(`${url}/auth/me?token=${token}&x=${token}`)).status, 401);
        assert.equal((await fetch(`${url}/jobs/${id}/events?${token}`)).status, 401);
        await m.call('POST', '/auth/logout', { token });
        await events.ended;
        const text = log.join('');
        assert.match(text, /"url":"\/jobs\/hardening-[0-9a-f]+\/events\?token=\[redacted\]"/);
        assert.match(text, /"url":"\/auth\/me\?token=\[redacted\]&x=\[redacted\]"/);
        for (const part of [token, ...token.split('.')]) assert.ok(!text.includes(part), `the log holds ${part.slice(0, 12)}…`);
      });

      describe('an event stream ends within seconds once its token no longer holds', () => {
        /** Follows a running job of a new user; `revoke` ends the token, and the stream must end soon after with an error event. */
        async function endsAfter(name: string, revoke: (token: string) => Promise<void>, expect: { code: string; message: RegExp }): Promise<void> {
          const token = await m.newUser(name);
          const stream = await openEvents(url, await runningJob(m, name), token);
          const revoked = performance.now();
          await revoke(token);
          const ended = await stream.ended;
          assert.ok(ended - revoked < 4500, `the stream ended ${Math.round(ended - revoked)} ms after`);
          const last = stream.events.at(-1);
          assert.equal(last?.event, 'error');
          assert.equal(last?.data.code, expect.code);
          assert.match(last?.data.message, expect.message);
        }

        test('logout', () => endsAfter('sse-logout', async (token) => void (await m.call('POST', '/auth/logout', { token })), { code: 'TORPEDO_ERR_UNAUTHENTICATED', message: /revoked \(logged out\)/ }));

        test('a password change', () =>
          endsAfter('sse-password', async (token) => void (await m.call('POST', '/auth/password', { token, json: { currentPassword: 'sse-password-password', newPassword: 'another-password' } })), {
            code: 'TORPEDO_ERR_UNAUTHENTICATED',
            message: /password changed/,
          }));

        test('disabling the user', () =>
          endsAfter('sse-disabled', async () => void (await m.call('PATCH', '/users/sse-disabled', { token: admin, json: { disabled: true } })), { code: 'TORPEDO_ERR_UNAUTHENTICATED', message: /disabled/ }));

        test('deleting the user', () =>
          endsAfter('sse-deleted', async () => assert.equal((await m.call('DELETE', '/users/sse-deleted', { token: admin })).status, 204), { code: 'TORPEDO_ERR_UNAUTHENTICATED', message: /no longer exists/ }));

        test('taking away track_jobs', () =>
          endsAfter('sse-role', async () => void (await m.call('PATCH', '/users/sse-role', { token: admin, json: { roles: ['read_storage'] } })), { code: 'TORPEDO_ERR_FORBIDDEN', message: /track_jobs/ }));

        test("the token's expiry", async () => {
          const real = await m.newUser('sse-expiry');
          const exp = Math.floor(Date.now() / 1000) + 3;
          const stream = await openEvents(url, await runningJob(m, 'sse-expiry'), await withExpiry(real, exp));
          const ended = await stream.ended;
          assert.ok(Date.now() - exp * 1000 < 4000, `the stream ended ${Date.now() - exp * 1000} ms after the expiry`);
          assert.equal(stream.events.at(-1)?.event, 'error');
          assert.match(stream.events.at(-1)?.data.message, /expired/);
          assert.ok(ended > 0);
        });

        test('the CLI’s follower reports the revocation at once, as the API error it is', async () => {
          const token = await m.newUser('sse-cli');
          const id = await runningJob(m, 'sse-cli');
          const following = followJob(new ApiClient(url, token), id, () => {});
          await new Promise((r) => setTimeout(r, 500));
          const revoked = performance.now();
          await m.call('POST', '/auth/logout', { token });
          await assert.rejects(following, (e: unknown) => e instanceof ApiError && e.code === 'TORPEDO_ERR_UNAUTHENTICATED' && /revoked/.test(e.message));
          assert.ok(performance.now() - revoked < 4500);
        });

        test('a valid token keeps its stream open', async () => {
          const token = await m.newUser('sse-stays');
          const stream = await openEvents(url, await runningJob(m, 'sse-stays'), token);
          const end = await Promise.race([stream.ended, new Promise((r) => setTimeout(r, 5000, 'open'))]);
          assert.equal(end, 'open');
          assert.deepEqual(stream.events.map((e) => e.event), ['job']);
          await m.call('POST', '/auth/logout', { token });
          await stream.ended;
        });
      });

      describe('failed logins (device tokens)', () => {
        test('50 failures with random usernames from one address lock nobody else out', async () => {
          await m.newUser('victor');
          for (let i = 0; i < 50; i++) {
            const res = await m.call('POST', '/auth/login', { json: { username: `guess-${randomBytes(4).toString('hex')}`, password: 'wrong-password' } });
            assert.equal(res.status, 401);
          }
          const res = await m.call('POST', '/auth/login', { json: { username: 'victor', password: 'victor-password' } });
          assert.equal(res.status, 200, res.body);
          assert.equal(typeof res.json.deviceToken, 'string');
        });

        test('a user under a guessing attack still logs in from a device it used before; untrusted clients get 429', async () => {
          await m.newUser('bea');
          const first = await m.call('POST', '/auth/login', { json: { username: 'bea', password: 'bea-password' } });
          const device = first.json.deviceToken as string;
          const statuses: number[] = [];
          let retryAfter: unknown;
          for (let i = 0; i < 20; i++) {
            const res = await m.call('POST', '/auth/login', { json: { username: 'bea', password: `wrong-${i}` } });
            statuses.push(res.status);
            retryAfter ??= res.headers['retry-after'];
          }
          assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(10).fill(429)]);
          assert.ok(Number(retryAfter) > 0);
          const untrusted = await m.call('POST', '/auth/login', { json: { username: 'bea', password: 'bea-password' } });
          assert.equal(untrusted.status, 429);
          assert.match(untrusted.json.error.message, /device you have logged in from before/);
          // The same name in another case or form is the same account, with the same count.
          assert.equal((await m.call('POST', '/auth/login', { json: { username: 'ＢＥＡ', password: 'bea-password' } })).status, 429);
          const trusted = await m.call('POST', '/auth/login', { json: { username: 'bea', password: 'bea-password', deviceToken: device } });
          assert.equal(trusted.status, 200, trusted.body);
          assert.equal((await m.call('GET', '/auth/me', { token: trusted.json.token })).json.username, 'bea');
          // The device token it got back works as well.
          assert.equal((await m.call('POST', '/auth/login', { json: { username: 'BEA', password: 'bea-password', deviceToken: trusted.json.deviceToken } })).status, 200);
        });

        test('a forged, foreign or other user’s device token counts as untrusted', async () => {
          await m.newUser('cleo');
          const theirs = (await m.call('POST', '/auth/login', { json: { username: 'victor', password: 'victor-password' } })).json;
          const mine = (await m.call('POST', '/auth/login', { json: { username: 'cleo', password: 'cleo-password' } })).json;
          for (let i = 0; i < 10; i++) await m.call('POST', '/auth/login', { json: { username: 'cleo', password: 'wrong' } });
          const [header, payload] = (mine.deviceToken as string).split('.');
          const foreign = await new SignJWT(JSON.parse(Buffer.from(payload!, 'base64url').toString()))
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .sign(new TextEncoder().encode('another-secret-that-is-long-enough-000000'));
          const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), jti: 'mine-now' })).toString('base64url')}.${(mine.deviceToken as string).split('.')[2]}`;
          for (const deviceToken of [theirs.deviceToken, theirs.token, mine.token, foreign, tampered, 'garbage', '']) {
            const res = await m.call('POST', '/auth/login', { json: { username: 'cleo', password: 'cleo-password', deviceToken } });
            assert.equal(res.status, 429, String(deviceToken).slice(0, 20));
          }
          assert.equal((await m.call('POST', '/auth/login', { json: { username: 'cleo', password: 'cleo-password', deviceToken: mine.deviceToken } })).status, 200);
        });

        test('failures with a device token are counted against that token alone', async () => {
          await m.newUser('dora');
          const one = (await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'dora-password' } })).json.deviceToken as string;
          const two = (await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'dora-password' } })).json.deviceToken as string;
          for (let i = 0; i < 10; i++) assert.equal((await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'wrong', deviceToken: one } })).status, 401);
          const locked = await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'dora-password', deviceToken: one } });
          assert.equal(locked.status, 429);
          assert.match(locked.json.error.message, /from this device/);
          assert.equal((await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'dora-password', deviceToken: two } })).status, 200);
          assert.equal((await m.call('POST', '/auth/login', { json: { username: 'dora', password: 'dora-password' } })).status, 200);
        });
      });

      describe('usernames are unique regardless of case and Unicode form', () => {
        test('Admin, ADMIN and a fullwidth ａｄｍｉｎ are taken; login as ADMIN is admin', async () => {
          for (const username of ['Admin', 'ADMIN', 'ａｄｍｉｎ', 'ＡＤＭＩＮ']) {
            const res = await m.call('POST', '/auth/register', { json: { username, password: 'a-long-password' } });
            assert.equal(res.status, 409, username);
            assert.equal(res.json.error.code, 'TORPEDO_ERR_CONFLICT');
          }
          assert.equal((await m.call('POST', '/users', { token: admin, json: { username: 'aDmIn', password: 'a-long-password' } })).status, 409);
          const login = await m.call('POST', '/auth/login', { json: { username: 'ADMIN', password: ADMIN_PASSWORD } });
          assert.equal(login.status, 200);
          assert.equal((await m.call('GET', '/auth/me', { token: login.json.token })).json.username, 'admin');
        });

        test('the spelling registered is kept for display; lookups by name ignore case', async () => {
          const reg = await m.call('POST', '/auth/register', { json: { username: 'ＭａｘＭｕｓｔｅｒ', password: 'max-password' } });
          assert.equal(reg.status, 201, reg.body);
          assert.equal(reg.json.username, 'MaxMuster');
          assert.equal((await m.call('POST', '/auth/register', { json: { username: 'maxmuster', password: 'max-password' } })).status, 409);
          const token = await m.login('MAXMUSTER', 'max-password');
          assert.equal((await m.call('GET', '/auth/me', { token })).json.username, 'MaxMuster');
          const patched = await m.call('PATCH', '/users/MAXMUSTER', { token: admin, json: { roles: ['track_jobs'] } });
          assert.equal(patched.status, 200, patched.body);
          assert.equal(patched.json.username, 'MaxMuster');
          assert.equal((await m.call('POST', '/auth/register', { json: { username: 'Zoë', password: 'zoe-password' } })).status, 400, 'still ASCII only after NFKC');
          assert.equal((await m.call('DELETE', '/users/maxMUSTER', { token: admin })).status, 204);
        });
      });

      test('PATCH /users/:name with nothing to change is 400, not 500', async () => {
        await m.newUser('pat');
        for (const body of [{}, { nickname: 'p' }, { roles: ['track_jobs'], nickname: 'p' }]) {
          const res = await m.call('PATCH', '/users/pat', { token: admin, json: body });
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.equal(res.json.error.code, 'TORPEDO_ERR_BAD_REQUEST');
        }
        for (const body of ['[]', 'null', '"x"', '7']) {
          const res = await m.call('PATCH', '/users/pat', { token: admin, body, headers: { 'content-type': 'application/json' } });
          assert.equal(res.status, 400, body);
        }
        assert.equal((await m.call('PATCH', '/users/pat', { token: admin })).status, 400, 'no body at all');
        assert.match((await m.call('PATCH', '/users/pat', { token: admin, json: {} })).json.error.message, /nothing to change/);
        assert.equal((await m.call('PATCH', '/users/pat', { token: admin, json: { disabled: false } })).status, 200);
      });

      test('without TORPEDO_METRICS_TOKEN, /metrics takes only admins’ tokens', async () => {
        assert.equal((await m.call('GET', '/metrics')).status, 401);
        assert.equal((await m.call('GET', '/metrics', { token: 'a-token-that-might-have-been-the-setting' })).status, 401);
        const user = await m.newUser('metrics-reader');
        const forbidden = await m.call('GET', '/metrics', { token: user });
        assert.equal(forbidden.status, 403);
        assert.equal(forbidden.json.error.code, 'TORPEDO_ERR_FORBIDDEN');
        assert.equal((await m.call('GET', `/metrics?token=${admin}`)).status, 401, 'no ?token= here');
        const res = await m.call('GET', '/metrics', { token: admin });
        assert.equal(res.status, 200);
        assert.match(res.body, /^torpedo_http_requests_total\{/m);
      });

      test("every HTML page says frame-ancestors 'none' and X-Frame-Options: DENY; swagger-ui still loads", async () => {
        let pages = 0;
        for (const path of ['/', '/index.html', '/docs', '/docs/', '/docs/static/index.html', '/docs/static/oauth2-redirect.html', '/ui-settings.json', '/docs/json', '/healthz']) {
          const res = await m.call('GET', path);
          assert.ok(res.status < 400, `${path}: ${res.status}`);
          if (!/^text\/html/.test(String(res.headers['content-type']))) continue;
          pages++;
          assert.match(String(res.headers['content-security-policy']), /(^|; )frame-ancestors 'none'$/, path);
          assert.equal(String(res.headers['content-security-policy']).match(/frame-ancestors/g)?.length, 1, path);
          assert.equal(res.headers['x-frame-options'], 'DENY', path);
        }
        assert.equal(pages, 5, 'the UI (/, /index.html) and swagger-ui (/docs, /docs/, oauth2-redirect.html)');
        // The UI keeps its own policy, with frame-ancestors in it once.
        assert.match(String((await m.call('GET', '/')).headers['content-security-policy']), /^default-src 'self'; script-src 'self';/);
        // swagger-ui's page gets no other directive (none of its scripts or styles is refused), and what it loads is there.
        const docs = await m.call('GET', '/docs');
        assert.equal(docs.headers['content-security-policy'], "frame-ancestors 'none'");
        const assets = [...docs.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css|png))"/g)].map((x) => new URL(x[1]!, `${url}/docs`).pathname);
        assert.ok(assets.includes('/docs/static/swagger-ui-bundle.js') && assets.includes('/docs/static/swagger-initializer.js'), assets.join(' '));
        for (const a of assets) assert.equal((await m.call('GET', a)).status, 200, a);
      });
    });

    describe('the metrics token, and request timeouts (2 s here)', () => {
      const METRICS_TOKEN = 'metrics-token-for-the-scraper-0123456789';
      let m: TestManager;
      let url: string;
      let admin: string;
      let token: string;

      before(async () => {
        if (postgres !== undefined) await resetPostgres(postgres.url);
        m = await startTestManager(kind, {
          ...where(),
          env: {
            TORPEDO_METRICS_TOKEN: METRICS_TOKEN,
            TORPEDO_HEADERS_TIMEOUT_SECONDS: '2',
            TORPEDO_BODY_TIMEOUT_SECONDS: '2',
            TORPEDO_UPLOAD_MIN_BYTES: String(64 * 1024),
            TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS: '2',
          },
        });
        url = await m.manager.app.listen({ host: '127.0.0.1', port: 0 });
        admin = await m.login('admin', ADMIN_PASSWORD);
        token = await m.newUser('uma');
      });
      after(async () => {
        await m?.close();
      });

      test('/metrics takes TORPEDO_METRICS_TOKEN or an admin’s token, and nothing else', async () => {
        assert.equal((await m.call('GET', '/metrics')).status, 401);
        const scraped = await m.call('GET', '/metrics', { token: METRICS_TOKEN });
        assert.equal(scraped.status, 200);
        assert.match(scraped.body, /^torpedo_jobs/m);
        assert.equal((await m.call('GET', '/metrics', { token: admin })).status, 200);
        for (const wrong of [`${METRICS_TOKEN}x`, METRICS_TOKEN.slice(0, -1), METRICS_TOKEN.toUpperCase()]) assert.equal((await m.call('GET', '/metrics', { token: wrong })).status, 401, wrong);
        assert.equal((await m.call('GET', '/metrics', { token })).status, 403);
        assert.equal((await m.call('GET', `/metrics?token=${METRICS_TOKEN}`)).status, 401);
        // The metrics token is no API token.
        assert.equal((await m.call('GET', '/auth/me', { token: METRICS_TOKEN })).status, 401);
      });

      test('headers that trickle (slowloris) are answered 408 and closed; so is a connection that sends nothing', async () => {
        const slow = await slowClient(url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', (write) => drip(write, 'X-Slow: 1\r\n', 300));
        assert.equal(statusOf(slow.response), 408, slow.response);
        assert.ok(slow.closedAfter < 4000, `closed after ${Math.round(slow.closedAfter)} ms`);
        const silent = await slowClient(url, '');
        assert.ok(silent.closedAfter < 4000, `closed after ${Math.round(silent.closedAfter)} ms`);
      });

      test('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
        // Answered at once, then kept open while idle for the keep-alive timeout only.
        const idle = await slowClient(url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.equal(statusOf(idle.response), 200);
        assert.match(idle.response, /keep-alive: timeout=2/i);
        assert.ok(idle.closedAfter > 1500 && idle.closedAfter < 4500, `closed after ${Math.round(idle.closedAfter)} ms`);
      });

      test('a small JSON body that trickles is cut with 408 within the body timeout', async () => {
        const body = JSON.stringify({ username: 'uma', password: 'uma-password' });
        const head = `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
        const cut = await slowClient(url, head, (write) => drip(write, 'x', 250, body.length - 1));
        assert.equal(statusOf(cut.response), 408, cut.response);
        assert.equal(bodyOf(cut.response).error.code, 'TORPEDO_ERR_REQUEST_TIMEOUT');
        assert.match(cut.response, /connection: close/i);
        assert.ok(cut.closedAfter < 4500, `closed after ${Math.round(cut.closedAfter)} ms`);
      });

      test('a raw upload under the minimum rate is cut with 408 and stores nothing', async () => {
        const before = datasetFiles(m.home);
        const head = `POST /datasets?name=trickled HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${10 * 2 ** 20}\r\n\r\n`;
        const cut = await slowClient(url, head, (write) => drip(write, Buffer.alloc(4096, 'a'), 250));
        assert.equal(statusOf(cut.response), 408, cut.response);
        assert.match(bodyOf(cut.response).error.message, /\(TORPEDO_UPLOAD_MIN_BYTES\); nothing was stored/);
        assert.ok(cut.closedAfter < 5000, `closed after ${Math.round(cut.closedAfter)} ms`);
        assert.deepEqual(datasetFiles(m.home), before, 'no file, not even a temporary one');
        assert.equal((await m.call('GET', '/datasets/trickled', { token })).status, 404);
      });

      test('a multipart upload under the minimum rate is cut with 408 and stores nothing', async () => {
        const before = datasetFiles(m.home);
        const boundary = 'torpedo-boundary';
        const preamble = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n`;
        const head = `POST /datasets?name=trickled-parts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${10 * 2 ** 20}\r\n\r\n${preamble}`;
        const cut = await slowClient(url, head, (write) => drip(write, Buffer.alloc(4096, 'b'), 250));
        assert.equal(statusOf(cut.response), 408, cut.response);
        assert.equal(bodyOf(cut.response).error.code, 'TORPEDO_ERR_REQUEST_TIMEOUT');
        assert.ok(cut.closedAfter < 5000, `closed after ${Math.round(cut.closedAfter)} ms`);
        assert.deepEqual(datasetFiles(m.home), before);
        // A multipart body whose part headers never come is cut as well.
        const stalled = await slowClient(url, head.slice(0, head.length - preamble.length), (write) => drip(write, '-', 500));
        assert.equal(statusOf(stalled.response), 408, stalled.response);
        assert.equal((await m.call('GET', '/datasets', { token })).json.datasets.length, 0);
      });

      test('an upload that keeps the rate may take longer than the body timeout', async () => {
        const size = 6 * 80 * 1024;
        const head = `POST /datasets?name=steady HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`;
        const started = performance.now();
        const done = await slowClient(url, head, (write) => drip(write, Buffer.alloc(80 * 1024, 'c'), 1000, 6));
        const took = performance.now() - started;
        // The answer came once the body was whole (the socket is closed by the keep-alive timeout later).
        assert.equal(statusOf(done.response), 201, done.response);
        assert.ok(took > 5000, `took ${Math.round(took)} ms`);
        const list = (await m.call('GET', '/datasets', { token })).json.datasets;
        assert.deepEqual(list.map((d: { name: string; size: number }) => [d.name, d.size]), [['steady', size]]);
      });
    });
  });
}
