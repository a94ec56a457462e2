// A `torpedo manager` as users run it: a real process, listening on a free port, talked to over
// HTTP. Shared by the tests that need the manager's own process (its environment, its signals,
// its log).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from '../helpers.ts';

export interface ManagerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it wrote, stdout and stderr. */
  readonly output: () => string;
  /** What it wrote to stdout: its JSON log. */
  readonly stdout: () => string;
  /** What it wrote to stderr: lines for a person. */
  readonly stderr: () => string;
}

/**
 * Starts `torpedo manager --port 0 --home HOME` with `env` (on top of this process's, unless
 * `cleanEnv`), optionally as another user (`asUid`, through setpriv), and waits until it listens.
 */
export function startManagerProcess(home: string, env: Record<string, string | undefined> = {}, o: { asUid?: number; cleanEnv?: boolean } = {}): Promise<ManagerProcess> {
  const argv = [process.execPath, BIN, 'manager', '--port', '0', '--home', home];
  const [file, ...args] = o.asUid !== undefined ? ['setpriv', `--reuid=${o.asUid}`, `--regid=${o.asUid}`, '--clear-groups', '--', ...argv] : argv;
  const base = o.cleanEnv === true ? { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home } : process.env;
  const full = { ...base, ...env };
  const child = spawn(file as string, args, { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => ((out += d.toString()), (stdout += d.toString())));
  child.stderr.on('data', (d: Buffer) => ((out += d.toString()), (stderr += d.toString())));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`manager did not start:\n${out}`)), 90_000);
    // The address is on stderr for a person, and in the JSON log on stdout unless TORPEDO_LOG=off:
    // waiting for the log's line means what the manager logged while starting is there too.
    const logged = [undefined, '', 'info', 'debug'].includes(full['TORPEDO_LOG']);
    const started = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(logged ? stdout : stderr);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out, stdout: () => stdout, stderr: () => stderr });
      }
    };
    child.stdout.on('data', started);
    child.stderr.on('data', started);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`manager exited with ${code}:\n${out}`));
    });
  });
}

export interface ApiAnswer {
  readonly status: number;
  readonly json: any;
  readonly text: string;
  readonly headers: Headers;
}

/** One request to a manager: JSON bodies as JSON, strings and bytes as they are. */
export async function api(url: string, method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> {
  const raw = typeof body === 'string' || body instanceof Uint8Array;
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: raw ? (body as string | Uint8Array) : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : undefined, text, headers: res.headers };
}

/** Polls a job until it has ended; returns its view. */
export async function waitForJobEnd(url: string, token: string, id: string, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = (await api(url, 'GET', `/jobs/${id}`, token)).json;
    if (j.status !== 'queued' && j.status !== 'running') return j;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${j.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
