// Starts a real, throwaway PostgreSQL server for tests: initdb into a temporary directory, start it
// on a free port of 127.0.0.1 with fsync off, create the role `torpedo` (with a random password,
// scram) owning the database `torpedo`, and hand back its URL. stop() shuts it down (immediate mode)
// and removes the directory; if a test process dies without stop(), a process 'exit' handler and a
// watchdog (for SIGKILL) do the same.
//
// initdb and pg_ctl refuse to run as root, so when we are root they run as the `postgres` user
// (runuser) in a directory owned by that user.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://torpedo:PASSWORD@127.0.0.1:PORT/torpedo */
  readonly url: string;
  /** The temporary directory: data/, postgres.log and the unix socket. Removed by stop(). */
  readonly dir: string;
  /** Stops the server (pg_ctl stop -m immediate) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Shuts the server down and keeps its data, as an outage does: `fast` (sessions are terminated,
   * a clean shutdown) or `immediate` (no shutdown checkpoint: a crash, recovered at the next start).
   */
  pause(mode: 'fast' | 'immediate'): Promise<void>;
  /** Starts a paused server again, on the same port with the same data. */
  resume(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

/** sh -c WATCHDOG _ PID DATA_DIR DIR: once PID is gone, immediate-stop the server and remove DIR. */
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pm=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
if [ -n "$pm" ] && kill -QUIT "$pm" 2>/dev/null; then
  i=0; while kill -0 "$pm" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$3"
`;

/** The bin directory of the newest PostgreSQL installed under /usr/lib/postgresql. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL found (no ${PG_ROOT}/*/bin/initdb); install the postgresql package`);
  return join(PG_ROOT, newest, 'bin');
}

function run(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** The postmaster's pid, from the first line of postmaster.pid, or undefined. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `durableCommits`: a commit is on disk (the page cache) before it returns, as in production, so
 * that an immediate stop (a crash) loses no committed row; the default trades that for speed.
 */
export async function startPostgres(o: { durableCommits?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-pg-'));
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pg_ = (tool: string, args: readonly string[]): Promise<string> =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], dir) : run(join(bin, tool), args, dir);

  // If this process exits without stop(), kill the server and remove the directory: an 'exit'
  // handler (synchronous, best effort; SIGQUIT is PostgreSQL's immediate shutdown), and, for deaths
  // that run no handler (SIGKILL, SIGTERM), a detached watchdog shell that does the same once this
  // process is gone.
  const onExit = (): void => {
    const pid = postmasterPid(dataDir);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // the watchdog retries
    }
  };
  process.on('exit', onExit);
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'torpedo-pg-watchdog', String(process.pid), dataDir, dir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.on('error', () => {}); // no /bin/sh: the 'exit' handler still runs
  watchdog.unref();

  const cleanup = (): void => {
    process.removeListener('exit', onExit);
    if (watchdog.pid !== undefined && watchdog.exitCode === null) {
      try {
        process.kill(-watchdog.pid, 'SIGKILL'); // its own process group: the shell and its sleep
      } catch {
        // already gone
      }
    }
    onExit();
  };

  try {
    await pg_('initdb', [
      '-D', dataDir,
      '-U', 'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-locale',
      '-E', 'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    const password = randomBytes(16).toString('hex');
    let port = 0;
    // A free port can be taken between our probe and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(
        join(dataDir, 'postgresql.conf'),
        [
          '',
          '# torpedo test server',
          `listen_addresses = '127.0.0.1'`,
          `port = ${port}`,
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          `synchronous_commit = ${o.durableCommits === true ? 'on' : 'off'}`,
          'full_page_writes = off',
          'password_encryption = scram-sha-256',
          'shared_buffers = 16MB',
          'max_connections = 50',
          '',
        ].join('\n'),
      );
      try {
        await pg_('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-s']);
        break;
      } catch (err) {
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (attempt >= 3 || !/could not (bind|create listen)/i.test(log)) {
          throw new Error(`${(err as Error).message}\n--- postgres.log ---\n${log}`);
        }
        writeFileSync(logFile, '');
      }
    }

    // Create the role and its database over the unix socket, as the superuser (trust).
    const admin = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE torpedo LOGIN PASSWORD '${password}'`);
      await admin.query('CREATE DATABASE torpedo OWNER torpedo');
    } finally {
      await admin.end();
    }

    let stopped: Promise<void> | undefined;
    let paused = false;
    return {
      async pause(mode) {
        await pg_('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30', '-s']);
        paused = true;
      },
      async resume() {
        await pg_('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-s']);
        paused = false;
      },
      url: `postgres://torpedo:${password}@127.0.0.1:${port}/torpedo`,
      dir,
      stop(): Promise<void> {
        stopped ??= (async () => {
          try {
            if (!paused) await pg_('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30', '-s']);
          } finally {
            cleanup();
          }
        })();
        return stopped;
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
