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

/** Saves credentials so that no other user can read them at any moment (`writePrivateJson`). */
export function saveCredentials(credentials: Credentials, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env);
  writePrivateJson(file, credentials);
  return file;
}

/**
 * The device tokens that logins answered (docs/manager.md, "Failed logins"), kept beside the
 * credentials in devices.json as {server: {username: token}}. Logging out keeps them: a device
 * token is what lets this machine log in while someone is guessing the user's password elsewhere.
 */
export function deviceTokensFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(credentialsFile(env)), 'devices.json');
}

/** The device token saved for `username` at `server`, if any; a damaged file counts as none (the login is then untrusted). */
export function loadDeviceToken(server: string, username: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = readDeviceTokens(env)[server]?.[deviceKey(username)];
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** Keeps the device token a login at `server` answered, replacing the one it had for `username`. */
export function saveDeviceToken(server: string, username: string, token: string, env: NodeJS.ProcessEnv = process.env): void {
  const all = readDeviceTokens(env);
  all[server] = { ...all[server], [deviceKey(username)]: token };
  writePrivateJson(deviceTokensFile(env), all);
}

/** The manager compares usernames regardless of case and Unicode form; so does this file's key. */
function deviceKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

function readDeviceTokens(env: NodeJS.ProcessEnv): Record<string, Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(deviceTokensFile(env), 'utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const all: Record<string, Record<string, unknown>> = {};
  for (const [server, tokens] of Object.entries(parsed)) {
    if (typeof tokens === 'object' && tokens !== null && !Array.isArray(tokens)) all[server] = tokens as Record<string, unknown>;
  }
  return all;
}

/**
 * Writes `value` so that no other user can read it at any moment: the directory is created 0700,
 * the data goes to a temp file opened 0600 (never a moment with wider permissions, unlike
 * write-then-chmod), and a rename replaces the old file at once, so a crash leaves old or new.
 */
function writePrivateJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
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
