import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { TorpedoError } from '../../errors.ts';
import { ROOT } from '../../paths.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The manager's database: the same drizzle API over PGlite (embedded) or a PostgreSQL server. */
export interface Database {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  /** Answers once the database does (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS = join(ROOT, 'src', 'manager', 'database', 'migrations');
const MIGRATION_OPTIONS = { migrationsFolder: MIGRATIONS, migrationsSchema: 'torpedo', migrationsTable: 'migrations' };
/** Any constant; it serialises migrations between manager replicas that start together. */
const MIGRATION_LOCK = 0x746f7270;

/**
 * Opens the database and applies pending migrations: a PostgreSQL server when `url` is given,
 * else PGlite in `pgliteDir` (or an already open PGlite instance, which tests start from a template).
 */
export async function openDatabase(o: { url?: string; pgliteDir?: string; pglite?: PGlite }): Promise<Database> {
  if (o.url !== undefined) return openPostgres(o.url);
  const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
  const client = o.pglite ?? (await PGliteClass.create(o.pgliteDir));
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const db = drizzle(client, { schema });
  await refusalsReported(() => migrate(db, MIGRATION_OPTIONS));
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    ping: async () => void (await client.query('select 1')),
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import('pg');
  // A connection that does not come within 5 s is an outage (503), not a request that hangs.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its connection must not crash the manager; the next query reconnects.
  pool.on('error', () => {});
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const db = drizzle(pool, { schema });
  // Two replicas starting at once must not both apply the same migration: take a session lock on
  // one dedicated connection for the duration.
  const lockClient = await pool.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await refusalsReported(() => migrate(drizzle(lockClient, { schema }), MIGRATION_OPTIONS));
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    lockClient.release();
  }
  return {
    db: db as unknown as Db,
    kind: 'postgres',
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => pool.end(),
  };
}

/**
 * Runs the migrations. A migration that checks the data first and refuses (RAISE EXCEPTION, SQLSTATE
 * P0001: e.g. usernames that differ only in case, which 0001 would make clash) becomes
 * TORPEDO_ERR_MIGRATION with the migration's own message and hint, instead of drizzle's
 * "Failed query: …" with the whole SQL. Nothing of the refused migration is applied.
 */
async function refusalsReported(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string; hint?: string } }).cause;
    if (cause?.code !== 'P0001' || cause.message === undefined) throw e;
    throw new TorpedoError('TORPEDO_ERR_MIGRATION', `${cause.message}${cause.hint !== undefined ? `; ${cause.hint}` : ''}`);
  }
}
