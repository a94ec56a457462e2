// A hostile user against a real manager (a `torpedo manager` process, holding secrets in its
// environment and its storage directory), on PGlite and on PostgreSQL: real jobs — JavaScript
// modules and streaming commands — try every way out that issue 14 lists, and each must fail or
// see nothing. Alice is the victim (a private dataset and a job's output); mallory attacks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sandboxSupport } from '../src/sandbox/index.ts';
import { ROOT, removeDir, tempDir } from './helpers.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const HOSTILE = readFileSync(join(ROOT, 'test', 'jobs', 'hostile.mjs'), 'utf8');
const SECRET = 'jwt-secret-of-the-manager-that-no-job-may-see-0123456789';
const ADMIN_PASSWORD = 'admin-password-never-seen-by-jobs';
const DIARY = 'alice’s diary: nobody else may read this\n';

/** The same probes as hostile.mjs, as a shell script for a streaming mapper (paths as arguments). */
const HOSTILE_SH = `
cat > /dev/null
try() { name=$1; shift; if out=$("$@" 2>&1); then printf '%s\\tok:%s\\n' "$name" "$(printf %s "$out" | head -c 40 | tr '\\n\\t' '  ')"; else printf '%s\\t%s\\n' "$name" "$(printf %s "$out" | head -c 60 | tr '\\n\\t' '  ')"; fi; }
reach() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)" "$1"; }
printf 'env\\t%s\\n' "$(env | cut -d= -f1 | sort | tr '\\n' ',')"
printf 'uid\\t%s\\n' "$(id -u)"
try read-shadow cat /etc/shadow
try read-secret cat "$1"
try read-other-dataset cat "$2"
try read-other-output cat "$3"
try list-home ls "$4"
try write-other-output sh -c "echo replaced > '$3'"
try write-host sh -c "echo written > '$5'"
try write-torpedo sh -c "echo written > '$6'"
try signal-manager kill -TERM "$7"
try net-manager reach "$8"
try net-postgres reach "$9"
`;

interface Manager extends ManagerProcess {
  readonly home: string;
}

async function startManager(home: string, env: Record<string, string>): Promise<Manager> {
  return { ...(await startManagerProcess(home, env)), home };
}

const waitForJob = waitForJobEnd;

/** `probe<TAB>outcome` lines of a job's output, as an object. */
async function outcomes(url: string, token: string, id: string): Promise<Record<string, string>> {
  const text = (await api(url, 'GET', `/jobs/${id}/output`, token)).text;
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
}

/** Processes on this host whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

const full = sandboxSupport().level === 'full';
const skip = full ? false : `full confinement needs bubblewrap and root: ${sandboxSupport().reason}`;

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`hostile users against a manager on ${kind}`, { skip }, () => {
    let dir: string;
    let postgres: PostgresServer | undefined;
    let m: Manager;
    let other: Server;
    let otherPort: number;
    let alice: string;
    let mallory: string;
    let aliceJob: string;
    const paths: Record<string, string> = {};
    const env: Record<string, string> = {};

    before(async () => {
      dir = tempDir('torpedo-hostile-');
      // A service on the host that no job may reach: the PostgreSQL server, or a stand-in.
      other = createServer((s) => s.end('hello\n'));
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      otherPort = (other.address() as { port: number }).port;
      Object.assign(env, {
        TORPEDO_JWT_SECRET: SECRET,
        TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TORPEDO_HOST: '127.0.0.1',
        TORPEDO_TASK_TIMEOUT_SECONDS: '4',
        TORPEDO_WORKER_MEMORY_MB: '256',
        TORPEDO_MAX_COMPILES: '1',
        TORPEDO_MAX_QUEUED_COMPILES: '1',
        NODE_ENV: 'production',
        TORPEDO_CANARY: 'a variable of the manager that jobs must not see',
      });
      if (kind === 'postgres') {
        postgres = await startPostgres();
        env['DATABASE_URL'] = postgres.url;
        otherPort = Number(new URL(postgres.url).port);
      }
      m = await startManager(join(dir, 'home'), env);
      const register = async (name: string): Promise<string> => {
        assert.equal((await api(m.url, 'POST', '/auth/register', undefined, { username: name, password: `${name}-password-1` })).status, 201);
        return (await api(m.url, 'POST', '/auth/login', undefined, { username: name, password: `${name}-password-1` })).json.token as string;
      };
      alice = await register('alice');
      mallory = await register('mallory');
      assert.equal((await api(m.url, 'POST', '/datasets?name=diary', alice, DIARY)).status, 201);
      assert.equal((await api(m.url, 'POST', '/datasets?name=input', mallory, 'one line\n')).status, 201);
      const job = await api(m.url, 'POST', '/jobs', alice, { example: 'wordcount', inputs: ['diary'], reducers: 1, workers: 1 });
      assert.equal(job.status, 201, job.text);
      aliceJob = job.json.id as string;
      assert.equal((await waitForJob(m.url, alice, aliceJob)).status, 'succeeded');
      const home = m.home;
      const ids = (await api(m.url, 'GET', '/datasets', alice)).json;
      assert.ok(ids.datasets.length === 1);
      Object.assign(paths, {
        secretFile: join(home, 'jwt-secret'),
        // Users are numbered in order: admin 1, alice 2, mallory 3.
        otherDataset: join(home, 'datasets', '2', 'diary'),
        otherOutput: join(home, 'jobs', aliceJob, 'output', 'part-r-00000'),
        home,
        hostFile: join(dir, 'written-by-a-job'),
        torpedoFile: join(ROOT, 'written-by-a-job'),
        managerPid: String(m.child.pid),
        managerPort: new URL(m.url).port,
        postgresPort: String(otherPort),
      });
      // There is a secret file in the home in development; in production the secret is in the environment.
      writeFileSync(paths['secretFile'] as string, `${SECRET}\n`, { mode: 0o600 });
      assert.ok(existsSync(paths['otherDataset'] as string) && existsSync(paths['otherOutput'] as string), 'the victim files are where the probes look');
    });

    after(async () => {
      m?.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      m?.child.kill('SIGKILL');
      other?.close();
      await postgres?.stop();
      removeDir(dir);
    });

    /** What every probe of hostile.mjs / HOSTILE_SH must have seen. */
    function assertConfined(seen: Record<string, string>, how: string): void {
      const fail = (probe: string): void => assert.ok(!(seen[probe] ?? '').startsWith('ok:'), `${how}: ${probe} succeeded: ${seen[probe]}`);
      for (const name of Object.keys(env)) assert.ok(!(seen['env'] ?? '').split(',').includes(name), `${how} sees the manager's ${name}: ${seen['env']}`);
      assert.doesNotMatch(seen['env'] ?? '', /SECRET|PASSWORD|DATABASE_URL|CANARY/);
      assert.notEqual(seen['uid'], String(process.getuid?.()), `${how} runs as the manager's uid`);
      for (const probe of ['read-shadow', 'read-secret', 'read-other-dataset', 'read-other-output', 'list-home', 'write-other-output', 'write-host', 'write-torpedo', 'signal-manager', 'net-manager', 'net-postgres']) {
        fail(probe);
      }
      // …and nothing changed outside.
      assert.equal(readFileSync(paths['otherDataset'] as string, 'utf8'), DIARY);
      assert.doesNotMatch(readFileSync(paths['otherOutput'] as string, 'utf8'), /replaced/);
      assert.ok(!existsSync(paths['hostFile'] as string) && !existsSync(paths['torpedoFile'] as string));
      assert.equal(m.child.exitCode, null, 'the manager is alive');
    }

    test('a JavaScript job sees an empty environment, none of the manager’s or alice’s files, no network; it cannot write outside its directories or signal the manager', async () => {
      const job = await api(m.url, 'POST', '/jobs', mallory, { code: HOSTILE, language: 'js', inputs: ['input'], reducers: 1, workers: 1, params: paths });
      assert.equal(job.status, 201, job.text);
      const done = await waitForJob(m.url, mallory, job.json.id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      const seen = await outcomes(m.url, mallory, job.json.id);
      assertConfined(seen, 'the JavaScript job');
      assert.match(seen['spawn'] ?? '', /ERR_ACCESS_DENIED/);
    });

    test('a streaming command sees as little, and has no network at all', async () => {
      const args = ['secretFile', 'otherDataset', 'otherOutput', 'home', 'hostFile', 'torpedoFile', 'managerPid', 'managerPort', 'postgresPort'].map((k) => `'${paths[k]}'`).join(' ');
      const job = await api(m.url, 'POST', '/jobs', mallory, { mapper: `sh hostile.sh ${args}`, reducer: 'cat', files: { 'hostile.sh': HOSTILE_SH }, inputs: ['input'], reducers: 1, workers: 1 });
      assert.equal(job.status, 201, job.text);
      const done = await waitForJob(m.url, mallory, job.json.id);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      const seen = await outcomes(m.url, mallory, job.json.id);
      assertConfined(seen, 'the streaming command');
      assert.equal(seen['uid'], '65534', 'a command is nobody in its own user namespace');
    });

    test('no process a command started survives its attempt, even in a session of its own', async () => {
      const marker = `torpedo-hostile-daemon-${kind}-${process.pid}`;
      const mapper = `setsid sh -c 'sleep 600; : ${marker}' > /dev/null 2>&1 < /dev/null & nohup sh -c 'sleep 600; : ${marker}' > /dev/null 2>&1 & cat`;
      const job = await api(m.url, 'POST', '/jobs', mallory, { mapper, reducer: 'cat', inputs: ['input'], reducers: 1, workers: 1 });
      assert.equal(job.status, 201, job.text);
      assert.equal((await waitForJob(m.url, mallory, job.json.id)).status, 'succeeded');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(processesWith(marker), []);
    });

    test('a fork bomb is contained: the service keeps answering, and nothing of it is left', async () => {
      const marker = `torpedo-hostile-bomb-${kind}-${process.pid}`;
      // Forks without end for 4 s, then the mapper exits: its attempt ends, and the bomb with it.
      const mapper = `cat > /dev/null; b() { b | b & }; (b) 2>/dev/null & sleep 4; echo ${marker}`;
      const job = await api(m.url, 'POST', '/jobs', mallory, { mapper, reducer: 'cat', inputs: ['input'], reducers: 1, workers: 1 });
      assert.equal(job.status, 201, job.text);
      await new Promise((r) => setTimeout(r, 2500));
      const t = performance.now();
      assert.equal((await api(m.url, 'GET', '/healthz')).status, 200);
      assert.ok(performance.now() - t < 1000, `/healthz took ${performance.now() - t} ms during the bomb`);
      await waitForJob(m.url, mallory, job.json.id);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(processesWith(' b | b'), []);
      assert.equal(execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('sh -c cat > /dev/null; b()')).length, 0);
    });

    test('a memory bomb is stopped, as a module and as a command, and the manager lives on', async () => {
      const js = await api(m.url, 'POST', '/jobs', mallory, { code: HOSTILE, language: 'js', inputs: ['input'], reducers: 1, workers: 1, params: { action: 'memory' } });
      assert.equal(js.status, 201, js.text);
      const jsDone = await waitForJob(m.url, mallory, js.json.id);
      assert.equal(jsDone.status, 'failed');
      // Stopped by its memory limit, or, on a loaded machine where filling it takes longer than the
      // test's 4 s, by the task time limit first: either way it ends, and nothing else with it.
      assert.match(jsDone.error.code, /TORPEDO_ERR_(OUT_OF_MEMORY|WORKER_LOST|TASK_FAILED|USER_CODE|TASK_TIMEOUT)/);
      const cmd = await api(m.url, 'POST', '/jobs', mallory, { mapper: 'python3 -c "x = []\nwhile True: x.append(bytearray(32 << 20))"', reducer: 'cat', inputs: ['input'], reducers: 1, workers: 1 });
      assert.equal(cmd.status, 201, cmd.text);
      const cmdDone = await waitForJob(m.url, mallory, cmd.json.id);
      assert.equal(cmdDone.status, 'failed');
      assert.ok(/MemoryError|killed|status/.test(cmdDone.error.message) || cmdDone.error.code === 'TORPEDO_ERR_TASK_TIMEOUT', JSON.stringify(cmdDone.error));
      assert.equal((await api(m.url, 'GET', '/healthz')).status, 200);
    });

    test('a catastrophic-backtracking pattern ends by the task time limit', async () => {
      assert.equal((await api(m.url, 'POST', '/datasets?name=aaa', mallory, `${'a'.repeat(40)}!\n`)).status, 201);
      const t = performance.now();
      const job = await api(m.url, 'POST', '/jobs', mallory, { example: 'grep', inputs: ['aaa'], reducers: 1, workers: 1, params: { pattern: '^(a+)+$' } });
      assert.equal(job.status, 201, job.text);
      const done = await waitForJob(m.url, mallory, job.json.id);
      assert.equal(done.status, 'failed');
      assert.equal(done.error.code, 'TORPEDO_ERR_TASK_TIMEOUT', done.error.message);
      assert.ok(performance.now() - t < 60_000);
    });

    test('bundling and type-checking read only the submitted module: other files are not found, and their text is not echoed', async () => {
      const leaks = [
        `import secret from ${JSON.stringify(paths['secretFile'])} with { type: 'text' };\nexport default { map() { throw new Error(secret); }, reduce() {} };\n`,
        `import diary from ${JSON.stringify(paths['otherDataset'])} with { type: 'text' };\nexport default { map() { throw new Error(diary); }, reduce() {} };\n`,
        `/// <reference path=${JSON.stringify(paths['otherDataset'])} />\nexport default { map() {}, reduce() {} };\n`,
        `import shadow from '/etc/shadow' with { type: 'text' };\nexport default { map() { throw new Error(shadow); }, reduce() {} };\n`,
      ];
      for (const code of leaks) {
        const r = await api(m.url, 'POST', '/jobs', mallory, { code, language: 'ts', inputs: ['input'], reducers: 1, workers: 1 });
        assert.equal(r.status, 400, r.text);
        assert.doesNotMatch(r.text, new RegExp(`${SECRET}|nobody else may read|root:`));
      }
    });

    test('compiles are capped: beyond the queue, 429 with Retry-After; the service keeps answering', async () => {
      // Slow to type-check: many overloads.
      const slow = `${Array.from({ length: 3000 }, (_, i) => `export function f${i}(x: number): number;`).join('\n')}\nexport default { map() {}, reduce() {} };\n`;
      const submits = await Promise.all(Array.from({ length: 5 }, () => api(m.url, 'POST', '/jobs', mallory, { code: slow, language: 'ts', inputs: ['input'], reducers: 1, workers: 1 })));
      const limited = submits.filter((r) => r.status === 429);
      assert.ok(limited.length >= 3, `statuses: ${submits.map((r) => r.status).join(' ')}`);
      for (const r of limited) assert.ok(Number(r.headers.get('retry-after')) > 0);
      assert.equal((await api(m.url, 'GET', '/healthz')).status, 200);
    });

    test('no token appears in the manager’s log', async () => {
      await fetch(`${m.url}/jobs/${aliceJob}/events?token=${encodeURIComponent(alice)}`).then((r) => r.body?.cancel());
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!m.output().includes(alice), 'a token was logged');
      assert.ok(!m.output().includes(mallory), 'a token was logged');
    });
  });
}
