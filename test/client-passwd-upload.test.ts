import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, removeDir, tempDir, type CliResult } from './helpers.ts';
import { startManagerProcess, type ManagerProcess } from './support/manager-process.ts';

/**
 * `torpedo passwd` and `torpedo submit` with a local file as input, against a real manager
 * process and the real binary, as a script would run them (no terminal: stdin is a pipe).
 */
const ADMIN_PASSWORD = 'admin-password-1';
let dir: string;
let m: ManagerProcess;

/** `torpedo ARGS` as user `who` (their own credentials directory), with `stdin` piped in. */
function as(who: string, args: readonly string[], stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, TORPEDO_CONFIG_DIR: join(dir, `config-${who}`), TORPEDO_SERVER: m.url, TORPEDO_PASSWORD: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
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

const login = (who: string, password: string): Promise<CliResult> => as(who, ['login', '--username', who, '--password', password]);

before(async () => {
  dir = tempDir('torpedo-passwd-');
  m = await startManagerProcess(join(dir, 'home'), { TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_LOG: 'off' });
  ok(await login('admin', ADMIN_PASSWORD));
  ok(await as('admin', ['users', 'add', 'bob', '--password', 'bob-password-1']));
});

after(async () => {
  const exited = new Promise((resolve) => m.child.once('exit', resolve));
  m.child.kill('SIGTERM');
  await exited;
  removeDir(dir);
});

describe('torpedo passwd', () => {
  it('sets another user\'s password from stdin (manage_users); the old one stops working', async () => {
    assert.match(ok(await as('admin', ['passwd', 'bob', '--password-stdin'], 'bob-password-2\n')).stdout, /^password set for bob; they are signed out everywhere\n$/);
    fails(await login('bob', 'bob-password-1'), /wrong username or password/);
    ok(await login('bob', 'bob-password-2'));
  });

  it('changes your own password from stdin, keeps you logged in with the new token, and refuses a wrong current one', async () => {
    fails(await as('bob', ['passwd', '--password-stdin'], 'not-the-password\nbob-password-3\n'), /^torpedo: TORPEDO_ERR_UNAUTHENTICATED: the current password is wrong; nothing was changed\n$/);
    ok(await login('bob', 'bob-password-2'));
    assert.match(ok(await as('bob', ['passwd', '--password-stdin'], 'bob-password-2\nbob-password-3\n')).stdout, /^password changed for bob/);
    // The old token was revoked; the saved one is the new token.
    assert.match(ok(await as('bob', ['whoami'])).stdout, /^bob at /);
    fails(await login('bob', 'bob-password-2'), /wrong username or password/);
    ok(await login('bob', 'bob-password-3'));
  });

  it('without a terminal and without --password-stdin says how; a short new password is refused', async () => {
    fails(await as('bob', ['passwd']), /no terminal to ask for passwords on: pass --password-stdin/);
    fails(await as('bob', ['passwd', '--password-stdin'], 'bob-password-3\n'), /expects the current and the new password on stdin/);
    fails(await as('bob', ['passwd', '--password-stdin'], 'bob-password-3\nshort\n'), /a password must be a string of 8 to 1024 characters/);
    ok(await login('bob', 'bob-password-3'));
  });
});

// Needs a terminal: util-linux `script` gives the CLI one.
const hasScript = spawnSync('script', ['--version']).status === 0;
describe('torpedo passwd on a terminal', () => {
  it('asks for the current password and the new one twice, echoing none of them', { skip: !hasScript && 'no `script` command for a pseudo-terminal' }, async () => {
    ok(await login('bob', 'bob-password-3'));
    const child = spawn('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} passwd --server ${m.url}`, '/dev/null'], {
      env: { ...process.env, TORPEDO_CONFIG_DIR: join(dir, 'config-bob'), TORPEDO_PASSWORD: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const answers: [string, string][] = [
      ['current password: ', 'bob-password-3'],
      ['new password: ', 'bob-password-4'],
      ['again: ', 'bob-password-4'],
    ];
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      const next = answers[0];
      if (next !== undefined && screen.endsWith(next[0])) {
        answers.shift();
        child.stdin.write(`${next[1]}\r`);
      }
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, screen);
    assert.match(screen, /password changed for bob/);
    assert.ok(!screen.includes('bob-password-3') && !screen.includes('bob-password-4'), `a password was echoed:\n${screen}`);
    ok(await login('bob', 'bob-password-4'));
  });
});

describe('torpedo submit with a local file as input', () => {
  it('says how to upload it, and with --upload uploads it and runs the job on it', async () => {
    writeFileSync(join(dir, 'words.txt'), 'b a b\nc b\n');
    const refused = fails(await as('bob', ['submit', 'wordcount', '-i', 'words.txt', '--wait']), /words\.txt is a local file, not one of your datasets on the manager: upload it with `torpedo datasets upload words\.txt` and pass -i words\.txt, or add --upload/);
    assert.equal(refused.stdout, '');
    assert.equal(ok(await as('bob', ['datasets', 'ls', '--json'])).stdout, '{"datasets":[]}\n');
    const r = ok(await as('bob', ['submit', 'wordcount', '-i', join(dir, 'words.txt'), '--upload', '--wait', '--reducers', '1']));
    assert.match(r.stderr, /uploaded .*words\.txt as the dataset words\.txt/);
    const id = r.stdout.trim().split('\n')[0] as string;
    assert.equal(ok(await as('bob', ['output', id])).stdout, 'a\t1\nb\t3\nc\t1\n');
    // Now a dataset of that name exists: the same input reads it, without asking or uploading.
    const again = ok(await as('bob', ['submit', 'wordcount', '-i', 'words.txt', '--wait']));
    assert.doesNotMatch(again.stderr, /uploaded/);
  });
});

describe('the client exit statuses docs/cli-client.md lists', () => {
  it('1 for a refused request, 2 for a usage error', async () => {
    const doc = (await import('node:fs')).readFileSync(join(import.meta.dirname, '..', 'docs', 'cli-client.md'), 'utf8');
    const table = new Map([...doc.matchAll(/^\| (\d+) \| (.*) \|$/gm)].map((row) => [Number(row[1]), row[2] as string]));
    assert.deepEqual([...table.keys()], [0, 1, 2, 70, 130]);
    assert.match(table.get(1) ?? '', /refused/);
    fails(await as('admin', ['cancel', 'no-such-job']), /TORPEDO_ERR_NOT_FOUND/);
    assert.match(table.get(2) ?? '', /unknown flag/);
    assert.equal((await as('admin', ['jobs', '--no-such-flag'])).code, 2);
  });
});
