// The throwaway PostgreSQL server for tests: it starts, takes a password login as `torpedo`, lets
// that role create a table in its database, and after stop() nothing listens on its port any more
// and its directory is gone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import pg from 'pg';
import { startPostgres } from './support/postgres-server.ts';

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.setTimeout(2000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

test('startPostgres: a real server that takes connections, and stop() takes it away', async () => {
  const t0 = performance.now();
  const server = await startPostgres();
  const started = performance.now() - t0;
  const url = new URL(server.url);
  assert.equal(url.protocol, 'postgres:');
  assert.equal(url.hostname, '127.0.0.1');
  assert.equal(url.username, 'torpedo');
  assert.equal(url.pathname, '/torpedo');
  assert.ok(url.password.length >= 16);
  const port = Number(url.port);
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>('select version()');
      assert.match(rows[0]?.version ?? '', /^PostgreSQL \d+/);
      const who = await client.query<{ u: string; d: string }>('select current_user as u, current_database() as d');
      assert.deepEqual(who.rows[0], { u: 'torpedo', d: 'torpedo' });
      await client.query('create table t (id int primary key, name text not null)');
      await client.query("insert into t values (1, 'a'), (2, 'b')");
      const count = await client.query<{ n: string }>('select count(*) as n from t');
      assert.equal(count.rows[0]?.n, '2');
    } finally {
      await client.end();
    }

    // The password is required: a wrong one is refused.
    const bad = new URL(server.url);
    bad.password = 'wrong';
    const intruder = new pg.Client({ connectionString: bad.toString() });
    await assert.rejects(intruder.connect(), /password authentication failed/);
  } finally {
    const t1 = performance.now();
    await server.stop();
    console.log(`postgres start ${started.toFixed(0)} ms, stop ${(performance.now() - t1).toFixed(0)} ms`);
  }
  assert.equal(await accepts(port), false, `port ${port} still accepts connections after stop()`);
  assert.equal(existsSync(server.dir), false, `${server.dir} is still there after stop()`);
  await server.stop(); // a second stop() is harmless
});

test('startPostgres: two servers at once get different ports and directories', async () => {
  const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
  try {
    assert.notEqual(new URL(a.url).port, new URL(b.url).port);
    assert.notEqual(a.dir, b.dir);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  assert.equal(existsSync(a.dir) || existsSync(b.dir), false);
});
