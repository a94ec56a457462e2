import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `torpedo login` saves: the manager it logged in to and the bearer token it got there. */
export interface Credentials {
  readonly server: string;
  readonly username: string;
  readonly token: string;
  /** ISO time, as the manager's POST /auth/login answered it. */
  readonly expiresAt: string;
}

/**
 * Where the credentials live: $TORPEDO_CONFIG_DIR/credentials.json, else
 * $XDG_CONFIG_HOME/torpedo/credentials.json, else ~/.config/torpedo/credentials.json.
 */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['TORPEDO_CONFIG_DIR'];
  if (own) return join(own, 'credentials.json');
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg ? xdg : join(homedir(), '.config'), 'torpedo', 'credentials.json');
}

/**
 * The saved credentials, or undefined when there are none. A file that is not what `login` writes
 * counts as none (with a warning): the server's 401 then tells the user to log in again.
 */
export function loadCredentials(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = stderrLine): Credentials | undefined {
  const file = credentialsFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // Like ssh with its keys: a token others can read is worth a warning (but not a refusal).
  if ((statSync(file).mode & 0o077) !== 0) warn(`torpedo: warning: ${file} can be read by other users; run chmod 600 on it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isCredentials(parsed)) {
    warn(`torpedo: warning: ignoring ${file}: it is not a credentials file written by torpedo login`);
    return undefined;
  }
  return { server: parsed.server, username: parsed.username, token: parsed.token, expiresAt: parsed.expiresAt };
}

/**
 * Saves credentials so that no other user can read them at any moment: the directory is created
 * 0700, the data goes to a temp file opened 0600 (never a moment with wider permissions, unlike
 * write-then-chmod), and a rename replaces the old file at once, so a crash leaves old or new.
 */
export function saveCredentials(credentials: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  return file;
}

/** Forgets the credentials; true if there were some. */
export function deleteCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = credentialsFile(env);
  try {
    rmSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function isCredentials(v: unknown): v is Credentials {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return ['server', 'username', 'token', 'expiresAt'].every((k) => typeof o[k] === 'string' && o[k] !== '');
}

function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
