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
  const level = logLevel(process.env['TORPEDO_LOG']);
  makeHomePrivate(config.home);
  const database = await open(config);
  const manager = await createManager(config, database, { logger: level === 'off' ? false : { level } });
  const say = (line: string): void => manager.app.log.info(line);
  const url = await manager.listen();
  const where = `database: ${database.kind === 'pglite' ? `embedded, ${MANAGER_DB_DIR(config.home)}` : 'PostgreSQL'}; home: ${config.home}`;
  // stdout is the JSON log only; a person starting it by hand is told the address on stderr.
  manager.app.log.info({ url }, `torpedo manager listening on ${url} (${where})`);
  process.stderr.write(`torpedo manager listening on ${url} (${where})\n`);
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

const LEVELS = ['debug', 'info', 'warn', 'error', 'off'] as const;

/** TORPEDO_LOG: the log's level, info by default; `off` writes no log at all. */
function logLevel(text: string | undefined): (typeof LEVELS)[number] {
  if (text === undefined || text === '') return 'info';
  const level = LEVELS.find((l) => l === text);
  if (level !== undefined) return level;
  process.stderr.write(`torpedo manager: error TORPEDO_ERR_CONFIG: TORPEDO_LOG is ${JSON.stringify(text)}; use one of ${LEVELS.join(', ')}\n`);
  process.exit(2);
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
