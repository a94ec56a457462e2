// The client side of docs/kubernetes.md's k3s walkthrough, run here without k3s: a real manager
// process with the k3s overlay's settings, behind a TLS-terminating proxy that streams bodies both
// ways as Traefik does, with the walkthrough's self-signed certificate (made by its openssl command,
// for `localhost` instead of torpedo.example.com, which nothing here resolves). The real CLI logs in
// with NODE_EXTRA_CA_CERTS, uploads a dataset through the proxy, and follows a job's live events
// there. Traefik itself does not run here (no package of it can be installed): its timeouts are
// not what this tests.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { removeDir, runCli, tempDir, type CliResult } from './helpers.ts';
import { startManagerProcess, type ManagerProcess } from './support/manager-process.ts';

const ADMIN_PASSWORD = 'admin-password-1';
let dir: string;
let manager: ManagerProcess;
let proxy: https.Server;
let server: string;
/** Request body bytes the proxy passed on, per path. */
const forwarded = new Map<string, number>();

/** The walkthrough's certificate command, for another host. */
function makeCertificate(host: string): void {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'kubernetes.md'), 'utf8');
  const line = doc.split('\n').find((l) => l.startsWith('openssl req -x509 '));
  assert.ok(line, 'docs/kubernetes.md has the openssl command');
  const command = line.replaceAll('torpedo.example.com', host);
  const r = spawnSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** HTTPS in front of the manager; bodies are piped as they arrive, never buffered whole. */
function startProxy(target: URL): Promise<https.Server> {
  const s = https.createServer({ key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) }, (req, res) => {
    const path = req.url ?? '/';
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, 'x-forwarded-proto': 'https' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => forwarded.set(path, (forwarded.get(path) ?? 0) + chunk.length));
    req.pipe(upstream);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { TORPEDO_CONFIG_DIR: join(dir, 'config'), NODE_EXTRA_CA_CERTS: join(dir, 'tls.crt'), TORPEDO_PASSWORD: '', ...env }, timeoutMs: 120_000 });
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

before(async () => {
  dir = tempDir('torpedo-k3s-client-');
  makeCertificate('localhost');
  // The overlay's settings that matter here: sign-up closed, the keep-alive longer than Traefik's.
  manager = await startManagerProcess(join(dir, 'home'), {
    TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TORPEDO_LOG: 'off',
    TORPEDO_ALLOW_REGISTRATION: 'false',
    TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS: '100',
  });
  proxy = await startProxy(new URL(manager.url));
  server = `https://localhost:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy?.close();
  proxy?.closeAllConnections();
  if (manager !== undefined) {
    const exited = new Promise((resolve) => manager.child.once('exit', resolve));
    manager.child.kill('SIGTERM');
    await exited;
  }
  removeDir(dir);
});

test('without the certificate trusted, the CLI refuses the server', async () => {
  const r = await cli(['login', '--server', server, '--username', 'admin'], { NODE_EXTRA_CA_CERTS: '', TORPEDO_PASSWORD: ADMIN_PASSWORD });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /certificate|SELF_SIGNED/i);
});

test('with NODE_EXTRA_CA_CERTS: login, a streamed upload, and a job followed to its end, all through the proxy', async () => {
  ok(await cli(['login', '--server', server, '--username', 'admin'], { TORPEDO_PASSWORD: ADMIN_PASSWORD }));
  // A few MiB: larger than any single read, so the body crosses the proxy in many chunks.
  const line = 'the quick brown fox jumps over the lazy dog\n';
  const text = line.repeat(Math.ceil((4 << 20) / line.length));
  writeFileSync(join(dir, 'books.txt'), text);
  ok(await cli(['datasets', 'upload', 'books.txt', '--name', 'books']));
  const uploaded = [...forwarded].filter(([path]) => path.startsWith('/datasets')).reduce((n, [, bytes]) => n + bytes, 0);
  assert.ok(uploaded >= text.length, `the proxy passed on ${uploaded} bytes of ${text.length}`);
  const job = ok(await cli(['submit', 'wordcount', '--input', 'books', '--reducers', '2', '--wait']));
  assert.match(job.stdout + job.stderr, /succeeded/);
});

/** curl, asynchronously: the proxy answers from this process's event loop. */
function curl(args: readonly string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--silent', '--show-error', '--max-time', '30', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

test('the walkthrough\'s curl check, and a sign-up refused through the proxy, as every overlay sets it', async () => {
  const ca = ['--cacert', join(dir, 'tls.crt')];
  const ready = await curl([...ca, '--fail', `${server}/readyz`]);
  assert.equal(ready.status, 0, ready.out);
  const signUp = await curl([...ca, '--output', '/dev/null', '--write-out', '%{http_code}', '--json', JSON.stringify({ username: 'mallory', password: 'mallory-password-1' }), `${server}/auth/register`]);
  assert.equal(signUp.out, '403');
  // Without the certificate, curl refuses the connection too.
  const untrusted = await curl(['--fail', `${server}/readyz`]);
  assert.notEqual(untrusted.status, 0);
});
