// Starts the manager in this process on a real database — an embedded PGlite (from a migrated
// template, ~0.5 s) or a real PostgreSQL server — and talks to it with Fastify's inject().
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { loadConfig, type ManagerConfig } from '../../src/manager/config.ts';
import { openDatabase } from '../../src/manager/database/database.ts';
import { createManager, type Manager, type ManagerOptions } from '../../src/manager/server.ts';
import { removeDir, tempDir } from '../helpers.ts';

export type DbKind = 'pglite' | 'postgres';

export const ADMIN_PASSWORD = 'admin-password-1';
export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-keys';

let template: Promise<Blob> | undefined;

/** A migrated PGlite data directory, made once per test process and copied for each manager. */
async function pgliteFromTemplate(): Promise<PGlite> {
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  template ??= (async () => {
    const db = await PGliteClass.create();
    const opened = await openDatabase({ pglite: db });
    const dump = await db.dumpDataDir('none');
    await opened.close();
    return dump;
  })();
  return PGliteClass.create({ loadDataDir: await template });
}

/** Empties a PostgreSQL database of torpedo's schema, so the manager migrates it from nothing. */
export async function resetPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('drop schema if exists torpedo cascade');
  } finally {
    await client.end();
  }
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: string;
  /** The body's bytes, as sent (a compressed part). */
  readonly rawBody: Buffer;
  readonly json: any;
}

export interface TestManager {
  readonly manager: Manager;
  readonly config: ManagerConfig;
  readonly home: string;
  call(method: string, url: string, o?: { token?: string; json?: unknown; body?: string | Buffer; headers?: Record<string, string> }): Promise<Response>;
  login(username: string, password: string): Promise<string>;
  /** Registers a user with the default roles and returns their token. */
  newUser(username: string, password?: string): Promise<string>;
  waitForJob(token: string, id: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startTestManager(
  kind: DbKind,
  o: { postgresUrl?: string; env?: Record<string, string>; home?: string; logger?: ManagerOptions['logger'] } = {},
): Promise<TestManager> {
  const home = o.home ?? tempDir('torpedo-manager-');
  const config = loadConfig({ TORPEDO_HOME: home, TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_JWT_SECRET: JWT_SECRET, ...o.env });
  let database;
  if (kind === 'postgres') {
    if (o.postgresUrl === undefined) throw new Error('postgresUrl is needed for the postgres kind');
    database = await openDatabase({ url: o.postgresUrl });
  } else {
    database = await openDatabase({ pglite: await pgliteFromTemplate() });
  }
  const manager = await createManager(config, database, o.logger !== undefined ? { logger: o.logger } : {});
  const call: TestManager['call'] = async (method, url, c = {}) => {
    const headers: Record<string, string> = { ...c.headers };
    if (c.token !== undefined) headers['authorization'] = `Bearer ${c.token}`;
    let payload: string | Buffer | undefined = c.body;
    if (c.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(c.json);
    }
    const res = await manager.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: res.body, rawBody: res.rawPayload, json };
  };
  const login = async (username: string, password: string): Promise<string> => {
    const res = await call('POST', '/auth/login', { json: { username, password } });
    if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${res.body}`);
    return res.json.token as string;
  };
  return {
    manager,
    config,
    home,
    call,
    login,
    async newUser(username, password = `${username}-password`) {
      const res = await call('POST', '/auth/register', { json: { username, password } });
      if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${res.body}`);
      return login(username, password);
    },
    async waitForJob(token, id, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await call('GET', `/jobs/${id}`, { token });
        if (res.status !== 200) throw new Error(`GET /jobs/${id}: ${res.status} ${res.body}`);
        if (!['queued', 'running'].includes(res.json.status as string)) return res.json;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${res.json.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await manager.close();
      if (o.home === undefined) removeDir(home);
    },
  };
}
