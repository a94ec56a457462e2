// Migrations from an empty PostgreSQL database: `torpedo migrate` creates the schema, a second run
// changes nothing, and managers starting at once do not apply the same migration twice.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../src/manager/database/database.ts';
import { ROOT, runCli } from './helpers.ts';
import { resetPostgres, startTestManager } from './support/manager-harness.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

/** The migrations in git (src/manager/database/migrations/meta/_journal.json): each is applied once. */
const MIGRATIONS = (JSON.parse(readFileSync(join(ROOT, 'src', 'manager', 'database', 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

let postgres: PostgresServer;
before(async () => {
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
});

async function query(sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test('torpedo migrate builds the schema in an empty database, and is idempotent', async () => {
  await resetPostgres(postgres.url);
  assert.deepEqual(await query("select 1 from information_schema.schemata where schema_name = 'torpedo'"), []);
  const first = await runCli(['migrate'], { env: { DATABASE_URL: postgres.url }, timeoutMs: 60_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /migrations applied \(postgres\)/);
  const tables = (await query("select table_name from information_schema.tables where table_schema = 'torpedo' order by 1")).map((r) => r.table_name);
  assert.deepEqual(tables, ['datasets', 'jobs', 'migrations', 'revoked_tokens', 'users']);
  const applied = await query('select hash from torpedo.migrations');
  assert.equal(applied.length, MIGRATIONS);
  const again = await runCli(['migrate'], { env: { DATABASE_URL: postgres.url }, timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await query('select hash from torpedo.migrations')).length, MIGRATIONS);
});

test('three managers migrating the same empty database at once apply each migration once', async () => {
  await resetPostgres(postgres.url);
  const dbs = await Promise.all([1, 2, 3].map(() => openDatabase({ url: postgres.url })));
  await Promise.all(dbs.map((d) => d.close()));
  assert.equal((await query('select hash from torpedo.migrations')).length, MIGRATIONS);
});

test('with registration disabled, POST /auth/register is 403 and admins still create users', async () => {
  await resetPostgres(postgres.url);
  const m = await startTestManager('postgres', { postgresUrl: postgres.url, env: { TORPEDO_ALLOW_REGISTRATION: 'false' } });
  try {
    const res = await m.call('POST', '/auth/register', { json: { username: 'nina', password: 'nina-password' } });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'TORPEDO_ERR_FORBIDDEN');
    const admin = await m.login('admin', 'admin-password-1');
    assert.equal((await m.call('POST', '/users', { token: admin, json: { username: 'nina', password: 'nina-password' } })).status, 201);
    assert.equal((await m.call('GET', '/auth/me', { token: await m.login('nina', 'nina-password') })).json.username, 'nina');
  } finally {
    await m.close();
  }
});
