import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The default storage directory: `$XDG_DATA_HOME/torpedo`, else `~/.local/share/torpedo`. Not the
 * working directory: started from torpedo's checkout, that would put the manager's secrets and
 * every user's data inside torpedo's own directory, which every sandbox may read.
 */
export function defaultHome(env: NodeJS.ProcessEnv): string {
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'torpedo');
}

/**
 * Makes the storage directory the manager's alone, once at start: the process's umask becomes
 * 077, so that everything it creates (PGlite's files among them) is 0600/0700 unless it says
 * otherwise; the directory itself is 0700; and what an earlier version left open — the database,
 * the secret, the directories of users and jobs — is closed. A job's sandbox is given what it
 * must reach when the job starts (src/launcher/worker-sandbox.ts).
 */
export function makeHomePrivate(home: string): void {
  process.umask(0o077);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  const close = (path: string, deep: boolean): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o7700);
    if (st.isDirectory() && deep) for (const entry of readdirSync(path)) close(join(path, entry), true);
  };
  for (const name of ['db', 'jwt-secret']) if (existsSync(join(home, name))) close(join(home, name), true);
  for (const name of ['datasets', 'jobs']) {
    const dir = join(home, name);
    if (!existsSync(dir)) continue;
    close(dir, false);
    for (const entry of readdirSync(dir)) close(join(dir, entry), false);
  }
}
