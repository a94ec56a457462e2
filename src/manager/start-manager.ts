import { mkdirSync } from 'node:fs';
import { isTorpedoError } from '../errors.ts';
import { loadConfig, type ManagerConfig } from './config.ts';
import { makeHomePrivate } from './home-dir.ts';
import { openDatabase, type Database } from './database/database.ts';
import { createManager, MANAGER_DB_DIR } from './server.ts';

type Flags = Partial<Record<'host' | 'port' | 'home' | 'databaseUrl', string>>;

/** `torpedo manager`: configure, open and migrate the database, serve until SIGINT/SIGTERM. */
export async function startManager(flags: Flags): Promise<void> {
  const config = configOrExit(flags);
  makeHomePrivate(config.home);
  const database = await open(config);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const manager = await createManager(config, database, { logger: process.env['TORPEDO_LOG'] !== 'off', log: say });
  const url = await manager.listen();
  say(`torpedo manager listening on ${url} (database: ${database.kind === 'pglite' ? `embedded, ${MANAGER_DB_DIR(config.home)}` : 'PostgreSQL'}; home: ${config.home})`);
  let closing = false;
  const stop = (signal: string): void => {
    if (closing) return;
    closing = true;
    say(`${signal}: stopping (running jobs resume at the next start)`);
    manager.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`torpedo manager: stopping failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `torpedo migrate`. */
export async function migrateOnly(flags: Flags): Promise<void> {
  const config = configOrExit(flags);
  const database = await open(config);
  await database.close();
  process.stdout.write(`migrations applied (${database.kind})\n`);
}

function configOrExit(flags: Flags): ManagerConfig {
  try {
    return loadConfig(process.env, flags);
  } catch (e) {
    if (!isTorpedoError(e)) throw e;
    process.stderr.write(`torpedo manager: error ${e.code}: ${e.message}\n`);
    process.exit(2);
  }
}

/** Opens and migrates the database; a migration that refuses the data (TORPEDO_ERR_MIGRATION) is reported like a bad setting. */
async function open(config: ManagerConfig): Promise<Database> {
  try {
    if (config.databaseUrl !== undefined) return await openDatabase({ url: config.databaseUrl });
    mkdirSync(MANAGER_DB_DIR(config.home), { recursive: true });
    return await openDatabase({ pgliteDir: MANAGER_DB_DIR(config.home) });
  } catch (e) {
    if (!isTorpedoError(e)) throw e;
    process.stderr.write(`torpedo manager: error ${e.code}: ${e.message}\n`);
    process.exit(2);
  }
}
