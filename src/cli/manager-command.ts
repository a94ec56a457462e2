import type { Command } from 'commander';

interface ManagerFlags {
  port?: string;
  host?: string;
  home?: string;
  databaseUrl?: string;
}

/** `torpedo manager` (also `npm start`) and `torpedo migrate`. */
export function registerManagerCommand(program: Command): void {
  program
    .command('manager')
    .description('run the manager service: REST API, accounts, datasets, jobs (embedded database unless DATABASE_URL is set)')
    .option('--port <port>', 'TCP port (default $TORPEDO_PORT or 7777; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; 0.0.0.0 in production)')
    .option('--home <dir>', 'storage directory (default $TORPEDO_HOME or ./.torpedo)')
    .option('--database-url <url>', 'PostgreSQL URL (default $DATABASE_URL; none: embedded PGlite in HOME/db)')
    .action(async (flags: ManagerFlags) => {
      const { startManager } = await import('../manager/start-manager.ts');
      await startManager(flags);
    });
  program
    .command('migrate')
    .description('apply pending database migrations and exit (the manager also does this at start)')
    .option('--home <dir>', 'storage directory, for the embedded database')
    .option('--database-url <url>', 'PostgreSQL URL (default $DATABASE_URL)')
    .action(async (flags: ManagerFlags) => {
      const { migrateOnly } = await import('../manager/start-manager.ts');
      await migrateOnly(flags);
    });
}
