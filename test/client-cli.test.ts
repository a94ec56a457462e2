import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from '../src/api/job.ts';
import { EXAMPLES } from '../examples/index.ts';
import { BIN, readParts, removeDir, ROOT, runCli, tempDir, type CliResult } from './helpers.ts';
import { runOracle } from './oracle.ts';

/**
 * The client commands end to end: a real `torpedo manager` process (embedded database), and the
 * real `torpedo` binary for every command, as a user would run them. Job output is checked
 * against the sequential oracle.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const MAX_UPLOAD = 200_000;

let dir: string;
let manager: ChildProcess | undefined;
let server: string;
let books: string;

/** Starts `torpedo manager --port 0` and resolves with the URL from its "listening on" line. */
function startManager(home: string, port = '0'): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'manager', '--port', port, '--home', home], {
    cwd: ROOT,
    env: { ...process.env, TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_LOG: 'off', TORPEDO_MAX_UPLOAD_BYTES: String(MAX_UPLOAD), NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  manager = child;
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the manager did not start in 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /torpedo manager listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the manager exited with ${code}:\n${out}`)));
  });
}

/** `torpedo ARGS` as user `who`: each user has their own credentials directory. */
function as(who: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { env: { TORPEDO_CONFIG_DIR: join(dir, `config-${who}`), TORPEDO_SERVER: server, TORPEDO_PASSWORD: '', ...env }, timeoutMs: 60_000 });
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function fails(r: CliResult, pattern: RegExp): CliResult {
  assert.equal(r.code, 1, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  return r;
}

async function oracle(job: string, inputs: readonly string[], reducers: number): Promise<string[]> {
  return runOracle((await import(EXAMPLES[job] ?? job)).default as Job, inputs, reducers);
}

/** A port nobody listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

before(async () => {
  dir = tempDir('torpedo-client-');
  books = join(dir, 'books.txt');
  writeFileSync(books, `${readFileSync(join(ROOT, 'examples', 'data', 'sample.txt'), 'utf8')}Café naïve 😀 the end\nthe END the end\n`);
  server = await startManager(join(dir, 'home'));
});

async function stopManager(): Promise<void> {
  if (manager === undefined || manager.exitCode !== null) return;
  const exited = new Promise((resolve) => manager?.once('exit', resolve));
  manager.kill('SIGTERM');
  await exited;
}

after(async () => {
  await stopManager();
  removeDir(dir);
});

describe('torpedo client commands against a real manager', () => {
  it('names the server when it cannot connect', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = fails(await as('nobody', ['whoami', '--server', url]), /cannot reach the manager at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    assert.ok(r.stderr.includes(url));
  });

  it('says to log in when there is no token, and refuses a wrong password without saving anything', async () => {
    fails(await as('admin', ['whoami']), /torpedo: TORPEDO_ERR_UNAUTHENTICATED: .*\n.*torpedo login/);
    const r = fails(await as('admin', ['login', '--username', 'admin', '--password', 'wrong-password']), /^torpedo: TORPEDO_ERR_UNAUTHENTICATED: wrong username or password\n$/);
    assert.doesNotMatch(r.stderr, /hint/);
    assert.equal(existsSync(join(dir, 'config-admin', 'credentials.json')), false);
  });

  it('logs in with $TORPEDO_PASSWORD and saves the token 0600 in a 0700 directory', async () => {
    ok(await as('admin', ['login', '--username', 'admin'], { TORPEDO_PASSWORD: ADMIN_PASSWORD }));
    const file = join(dir, 'config-admin', 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'config-admin')).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(saved).sort(), ['expiresAt', 'server', 'token', 'username']);
    assert.equal(saved['server'], server);
    assert.match(ok(await as('admin', ['whoami'])).stdout, /^admin at http:\/\/127\.0\.0\.1:\d+ \(roles: admin\)\n$/);
    assert.deepEqual(JSON.parse(ok(await as('admin', ['whoami', '--json'])).stdout), { username: 'admin', roles: ['admin'] });
  });

  it('manages users: add, ls, set-roles, disable (login refused), enable', async () => {
    ok(await as('admin', ['users', 'add', 'alice', '--password', 'alice-password']));
    ok(await as('admin', ['users', 'add', 'bob', '--password', 'bob-password', '--roles', 'track_jobs,read_storage']));
    const users = JSON.parse(ok(await as('admin', ['users', 'ls', '--json'])).stdout) as { users: { username: string; roles: string[] }[] };
    assert.deepEqual(users.users.find((u) => u.username === 'bob')?.roles, ['track_jobs', 'read_storage']);
    assert.match(ok(await as('admin', ['users', 'ls'])).stdout, /^USERNAME +ROLES +STATE +CREATED\n(.*\n)*alice +submit_jobs,track_jobs,read_storage,write_storage +active/m);
    assert.match(ok(await as('admin', ['users', 'set-roles', 'bob', 'submit_jobs, track_jobs'])).stdout, /updated bob: roles submit_jobs,track_jobs/);
    ok(await as('admin', ['users', 'disable', 'alice']));
    fails(await as('alice', ['login', '--username', 'alice', '--password', 'alice-password']), /TORPEDO_ERR_UNAUTHENTICATED: .*disabled/);
    assert.equal(JSON.parse(ok(await as('admin', ['users', 'enable', 'alice', '--json'])).stdout).disabled, false);
    ok(await as('alice', ['login', '--username', 'alice'], { TORPEDO_PASSWORD: 'alice-password' }));
    fails(await as('alice', ['users', 'ls']), /TORPEDO_ERR_FORBIDDEN/);
  });

  it('uploads (409 without --overwrite, 413 over the limit), lists and downloads datasets', async () => {
    const up = JSON.parse(ok(await as('alice', ['datasets', 'upload', books, '--name', 'books', '--json'])).stdout) as Record<string, unknown>;
    assert.equal(up['size'], statSync(books).size);
    fails(await as('alice', ['datasets', 'upload', books, '--name', 'books']), /TORPEDO_ERR_CONFLICT/);
    ok(await as('alice', ['datasets', 'upload', books, '--name', 'books', '--overwrite']));
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(MAX_UPLOAD + 1));
    fails(await as('alice', ['datasets', 'upload', big]), /TORPEDO_ERR_TOO_LARGE/);
    fails(await as('alice', ['datasets', 'upload', join(dir, 'missing.txt')]), /TORPEDO_ERR_INPUT_NOT_FOUND/);
    const poison = join(dir, 'poison.txt');
    writeFileSync(poison, 'fine\nPOISON here\n');
    ok(await as('alice', ['datasets', 'upload', poison]));
    const listed = JSON.parse(ok(await as('alice', ['datasets', 'ls', '--json'])).stdout) as { datasets: { name: string }[] };
    assert.deepEqual(listed.datasets.map((d) => d.name).sort(), ['books', 'poison.txt']);
    assert.match(ok(await as('alice', ['datasets', 'ls'])).stdout, /^NAME +OWNER +SIZE +SHA256 +CREATED\nbooks +alice +/);
    assert.equal(ok(await as('alice', ['datasets', 'download', 'books'])).stdout, readFileSync(books, 'utf8'));
    const copy = join(dir, 'books-copy.txt');
    ok(await as('alice', ['datasets', 'download', 'books', '--out', copy]));
    assert.deepEqual(readFileSync(copy), readFileSync(books));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.part')),
      [],
      'no temp file left',
    );
    fails(await as('bob', ['datasets', 'ls']), /TORPEDO_ERR_UNAUTHENTICATED/);
  });

  let wordcountId = '';

  it('submit --wait follows the job to success; output and output --out equal the oracle', async () => {
    const r = ok(await as('alice', ['submit', 'wordcount', '--input', 'books', '--reducers', '3', '--maps', '3', '--wait']));
    wordcountId = r.stdout.trim();
    assert.match(wordcountId, /^\S+$/, 'stdout is the job id alone');
    assert.match(r.stderr, new RegExp(`job ${wordcountId} succeeded: 3 parts`));
    const expected = await oracle('wordcount', [books], 3);
    assert.equal(ok(await as('alice', ['output', wordcountId])).stdout, expected.join(''));
    const out = join(dir, 'out');
    ok(await as('alice', ['output', wordcountId, '--out', out]));
    assert.deepEqual(readdirSync(out).sort(), ['part-r-00000', 'part-r-00001', 'part-r-00002']);
    assert.deepEqual(readParts(out), expected);
  });

  it('jobs lists it; status shows its phases and counters; cancelling an ended job is an error', async () => {
    assert.match(ok(await as('alice', ['jobs'])).stdout, new RegExp(`^ID +NAME +JOB +STATUS +PHASE +PROGRESS +CREATED\n${wordcountId} +- +wordcount +succeeded +succeeded +3/3 `));
    const status = ok(await as('alice', ['status', wordcountId])).stdout;
    assert.match(status, /^status +succeeded$/m);
    assert.match(status, /^phases +setup \d+\/\d+, map (\d+)\/\1, reduce 3\/3$/m);
    assert.match(status, /^ {2}map input records +\d+$/m);
    assert.equal(JSON.parse(ok(await as('alice', ['status', wordcountId, '--json'])).stdout).id, wordcountId);
    fails(await as('alice', ['cancel', wordcountId]), /^torpedo: TORPEDO_ERR_CONFLICT: .+/);
    fails(await as('alice', ['status', 'no-such-job']), /TORPEDO_ERR_NOT_FOUND/);
  });

  it('sends a job file as code (.ts and .mjs), and --wait exits 1 with the error of a failed job', async () => {
    const ts = ok(await as('alice', ['submit', join(ROOT, 'test', 'jobs', 'user-wordcount.ts'), '--input', 'books', '--reducers', '2', '--wait']));
    assert.equal(ok(await as('alice', ['output', ts.stdout.trim()])).stdout, (await oracle(join(ROOT, 'test', 'jobs', 'user-wordcount.ts'), [books], 2)).join(''));
    const failed = fails(await as('alice', ['submit', join(ROOT, 'test', 'jobs', 'throws.mjs'), '--input', 'poison.txt', '--wait']), /torpedo: TORPEDO_ERR_\w+: .*poisoned record/);
    assert.match(failed.stderr, /job \S+ failed/);
    fails(await as('alice', ['submit', 'no-such-example', '--input', 'books']), /TORPEDO_ERR_JOB_NOT_FOUND/);
    fails(await as('alice', ['submit', './missing-job.ts', '--input', 'books']), /TORPEDO_ERR_JOB_NOT_FOUND: no job file/);
    // Pod settings reach the manager as `pods`; one with local workers refuses them.
    fails(await as('alice', ['submit', 'wordcount', '--input', 'books', '--pod-cpu', '2', '--toleration', 'spot:NoSchedule']), /^torpedo: TORPEDO_ERR_BAD_REQUEST: `pods` \(resources, nodeSelector, tolerations, priorityClassName\) is for jobs on Kubernetes/m);
    const badFlag = await as('alice', ['submit', 'wordcount', '--input', 'books', '--toleration', 'spot:Sometimes']);
    assert.equal(badFlag.code, 2, badFlag.stderr);
    assert.match(badFlag.stderr, /option '--toleration <key\[=value\]\[:effect\]>' argument 'spot:Sometimes' is invalid\. "spot:Sometimes": the effect after ':' is one of NoSchedule, PreferNoSchedule, NoExecute/);
  });

  it('submits a streaming job: --mapper/--reducer with --file scripts, same output as the built-in wordcount', async () => {
    const py = (f: string): string => join(ROOT, 'examples', 'streaming', f);
    const streamed = ok(await as('alice', ['submit', '--mapper', 'python3 mapper.py', '--reducer', 'python3 reducer.py', '--file', py('mapper.py'), '--file', py('reducer.py'), '--input', 'books', '--reducers', '2', '--wait']));
    const builtin = ok(await as('alice', ['submit', 'wordcount', '--input', 'books', '--reducers', '2', '--wait']));
    const out = async (r: { stdout: string }): Promise<string> => ok(await as('alice', ['output', r.stdout.trim().split('\n')[0] as string])).stdout;
    assert.equal(await out(streamed), await out(builtin));
    fails(await as('alice', ['submit', '--mapper', 'cat', '--input', 'books']), /needs both --mapper and --reducer/);
    fails(await as('alice', ['submit', 'wordcount', '--mapper', 'cat', '--reducer', 'cat', '--input', 'books']), /either a job/);
  });

  it('cancels a running job; status --watch then reports it and exits 1', async () => {
    const sleepy = join(dir, 'sleepy.txt');
    writeFileSync(sleepy, 'a\nSLEEP\nb\n');
    ok(await as('alice', ['datasets', 'upload', sleepy]));
    const id = ok(await as('alice', ['submit', join(ROOT, 'test', 'jobs', 'sleeps.mjs'), '--input', 'sleepy.txt'])).stdout.trim();
    assert.match(ok(await as('alice', ['cancel', id])).stdout, new RegExp(`cancelled ${id}`));
    const watched = fails(await as('alice', ['status', id, '--watch']), /TORPEDO_ERR_CANCELLED/);
    assert.match(watched.stdout, /^status +cancelled$/m);
  });

  it('submit --name; jobs --name/--status/--owner filter; rerun runs it again; delete removes it and its output', async () => {
    const id = ok(await as('alice', ['submit', 'wordcount', '--input', 'books', '--name', 'weekly books', '--wait'])).stdout.trim().split('\n')[0] as string;
    assert.match(ok(await as('alice', ['status', id])).stdout, /^name +weekly books$/m);
    const again = ok(await as('alice', ['rerun', id, '--wait'])).stdout.trim().split('\n')[0] as string;
    assert.notEqual(again, id);
    assert.equal(ok(await as('alice', ['output', again])).stdout, ok(await as('alice', ['output', id])).stdout);
    const listed = JSON.parse(ok(await as('alice', ['jobs', '--name', 'WEEKLY', '--status', 'succeeded', '--owner', 'alice', '--json'])).stdout);
    assert.deepEqual(listed.jobs.map((j: { id: string }) => j.id), [again, id]);
    assert.match(ok(await as('alice', ['jobs', '--name', 'weekly'])).stdout, new RegExp(`^${again} +weekly books +wordcount +succeeded`, 'm'));
    assert.equal(JSON.parse(ok(await as('alice', ['jobs', '--status', 'queued', '--name', 'weekly', '--json'])).stdout).jobs.length, 0);
    fails(await as('alice', ['jobs', '--status', 'done']), /TORPEDO_ERR_BAD_REQUEST/);
    assert.equal(ok(await as('alice', ['delete', id])).stdout, `deleted ${id} and its output\n`);
    fails(await as('alice', ['output', id]), /TORPEDO_ERR_NOT_FOUND/);
    fails(await as('alice', ['cancel', again]), /TORPEDO_ERR_CONFLICT/);
  });

  it('status --watch follows a job it did not submit to success', async () => {
    const id = ok(await as('alice', ['submit', 'grep', '--input', 'books', '--param', 'pattern=end', '--json'])).stdout;
    const watched = ok(await as('alice', ['status', JSON.parse(id).id, '--watch']));
    assert.match(watched.stdout, /^status +succeeded$/m);
  });

  it('logout revokes the token: whoami fails with 401, even with the old token put back', async () => {
    const file = join(dir, 'config-alice', 'credentials.json');
    const kept = join(dir, 'alice-token.json');
    copyFileSync(file, kept);
    assert.match(ok(await as('alice', ['logout'])).stdout, /logged out/);
    assert.equal(existsSync(file), false);
    fails(await as('alice', ['whoami']), /TORPEDO_ERR_UNAUTHENTICATED[^\n]*\n.*torpedo login/);
    copyFileSync(kept, file);
    fails(await as('alice', ['whoami']), /TORPEDO_ERR_UNAUTHENTICATED/);
    ok(await as('alice', ['logout']));
    assert.equal(existsSync(file), false, 'logout of an already revoked token still forgets it');
  });

  it('status --watch reconnects when the manager restarts, and sees the resumed job end', async () => {
    // About 2 s of map work (the job sleeps 20 ms every 100 lines), so it is running at the restart.
    const lines = join(dir, 'lines.txt');
    writeFileSync(lines, 'one two three\n'.repeat(10_000));
    ok(await as('admin', ['datasets', 'upload', lines]));
    const job = join(ROOT, 'test', 'jobs', 'paced-wordcount.mjs');
    const id = ok(await as('admin', ['submit', job, '--input', 'lines.txt', '--maps', '1', '--workers', '1'])).stdout.trim();
    const watching = as('admin', ['status', id, '--watch']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stopManager();
    assert.equal(await startManager(join(dir, 'home'), new URL(server).port), server);
    const watched = ok(await watching);
    assert.match(watched.stdout, /^status +succeeded$/m);
    assert.match(watched.stderr, /cannot reach the manager at .*; reconnecting in/, 'the stream did break');
    assert.equal(ok(await as('admin', ['output', id])).stdout, (await oracle(job, [lines], 2)).join(''));
  });

  // Needs a terminal: util-linux `script` gives the CLI one.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('login on a terminal asks for the password without echoing it', { skip: !hasScript && 'no `script` command for a pseudo-terminal' }, async () => {
    const config = join(dir, 'config-tty');
    const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} login --server ${server}`, '/dev/null'], {
      env: { ...process.env, TORPEDO_CONFIG_DIR: config, TORPEDO_PASSWORD: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let step = 0;
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      if (step === 0 && screen.includes('username at')) {
        step = 1;
        child.stdin.write('admin\r');
      }
      if (step === 1 && screen.includes('password: ')) {
        step = 2;
        child.stdin.write(`${ADMIN_PASSWORD}\r`);
      }
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, screen);
    assert.match(screen, /logged in to .* as admin/);
    assert.ok(!screen.includes(ADMIN_PASSWORD), `the password was echoed:\n${screen}`);
    assert.equal(statSync(join(config, 'credentials.json')).mode & 0o777, 0o600);
  });
});
