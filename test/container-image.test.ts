// The image (deploy/Dockerfile), built here with podman (deploy/build-image.sh) and run as each of
// its roles the way a pod runs it: uid 10001, a read-only root, no capabilities, tini as PID 1, no
// network (test/support/containers.ts). Every result is compared with the same job run outside.
// Where containers cannot run (no podman, not root), the tests are skipped with the reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { webSourceKey } from '../src/manager/web-build.ts';
import { commandLimits } from '../src/streaming/command-sandbox.ts';
import type { StreamingSpec } from '../src/protocol/streaming-spec.ts';
import { prose, readParts, removeDir, runCli, SEED_DIR, tempDir } from './helpers.ts';
import { containersUnavailable, podman, POD_UID, runPod, startPod, testImage, type Pod } from './support/containers.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';

const unavailable = containersUnavailable();
if (unavailable !== undefined) console.log(`container tests skipped: ${unavailable}`);
const skip = unavailable ?? false;

let image: string;
let dir: string;
/** A few hundred KB of prose and the sample: several 64 KB splits. */
let corpus: string;
/** `torpedo run wordcount` of the corpus outside any container: the oracle. */
let oracle: string[];

/** A directory the pods' uid may write (the tests run as root). */
function podDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, POD_UID, POD_UID);
  return path;
}

before(async () => {
  if (unavailable !== undefined) return;
  dir = tempDir('torpedo-containers-');
  chownSync(dir, POD_UID, POD_UID); // the pods' uid traverses it to the directories bound in
  corpus = podDir(join(dir, 'corpus'));
  writeFileSync(join(corpus, 'prose.txt'), prose(6000));
  writeFileSync(join(corpus, 'sample.txt'), readFileSync(join(SEED_DIR, 'sample.txt')));
  const [built, outside] = await Promise.all([
    testImage(),
    runCli(['run', 'wordcount', '--input', corpus, '--output', join(dir, 'oracle'), '--reducers', '3', '--split-size', '64KB', '--no-progress']),
  ]);
  assert.equal(outside.code, 0, outside.stderr);
  oracle = readParts(join(dir, 'oracle'));
  image = built.name;
  console.log(built.summary);
});
after(() => {
  if (dir !== undefined) removeDir(dir);
});

test('the image runs as uid 10001 under tini; the build’s CA bundle is nowhere in it', { skip }, async () => {
  const inspect = await podman(['image', 'inspect', '--format', '{{json .Config}}', image]);
  assert.equal(inspect.code, 0, inspect.stderr);
  const config = JSON.parse(inspect.stdout) as { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[] };
  assert.equal(config.User, `${POD_UID}:${POD_UID}`);
  assert.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--', 'node', '/app/bin/torpedo']);
  assert.deepEqual(config.Cmd, ['manager']);
  assert.ok(!config.Env.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS=')), config.Env.join(' '));
  // The secret was mounted in the deps stage only: no file of it in the image.
  const r = await runPod(image, ['-c', 'test ! -e /run/secrets/ca-certificates && echo absent'], { entrypoint: '/bin/sh' });
  assert.equal(r.stdout.trim(), 'absent', r.stderr);
});

test('`torpedo run wordcount` in a pod gives the counts of the same run outside', { skip }, async () => {
  const out = podDir(join(dir, 'wordcount'));
  const r = await runPod(image, ['run', 'wordcount', '--input', '/input', '--output', '/out/wc', '--reducers', '3', '--split-size', '64KB', '--no-progress'], {
    mounts: { [corpus]: ['/input', 'ro'], [out]: ['/out', 'rw'] },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(join(out, 'wc')), oracle);
});

/** A streaming mapper that reports what its command can do and see, once per map task. */
const PROBE = `
import os, resource, sys
for _ in sys.stdin: pass
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
try:
    open('/app/probe', 'w'); write = 'written'
except OSError as e:
    write = e.strerror
facts = {
    'uid': os.getuid(), 'gid': os.getgid(),
    'CapEff': status['CapEff'].strip(), 'CapBnd': status['CapBnd'].strip(), 'NoNewPrivs': status['NoNewPrivs'].strip(),
    'data': resource.getrlimit(resource.RLIMIT_DATA)[0], 'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    'interfaces': ','.join(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:])),
    'pid1': open('/proc/1/cmdline').read().split('\\0')[0],
    'write /app': write,
}
for k, v in facts.items(): print(f'{k}\\t{v}')
`;

test('a streaming job with Python in a pod: the built-in counts, and its commands confined as a non-root pod can be', { skip }, async () => {
  const out = podDir(join(dir, 'streaming'));
  const py = ['--file', '/app/examples/streaming/mapper.py', '--file', '/app/examples/streaming/reducer.py'];
  const r = await runPod(image, ['run', '--mapper', 'python3 mapper.py', '--reducer', 'python3 reducer.py', ...py, '--input', '/input', '--output', '/out/py', '--reducers', '3', '--split-size', '64KB', '--no-progress'], {
    mounts: { [corpus]: ['/input', 'ro'], [out]: ['/out', 'rw'] },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(join(out, 'py')), oracle);

  // No bubblewrap in a pod (it may not make namespaces): each command runs as the pod's uid under
  // prlimit and `setpriv --pdeathsig` (src/streaming/command-sandbox.ts), inside the pod's own
  // confinement: no capabilities, no privilege escalation, no network, a read-only root. (The
  // parent-death signal is its wrapper shell's, which kills the command's group with it: not
  // visible from the command.)
  const job = join(dir, 'probe');
  mkdirSync(job);
  writeFileSync(join(job, 'probe.py'), PROBE);
  const memory = 768 * 2 ** 20;
  const p = await runPod(image, ['run', '--mapper', 'python3 probe.py', '--reducer', 'sort -u', '--file', '/job/probe.py', '--input', '/input', '--output', '/out/probe', '--worker-memory', '768MiB', '--no-progress'], {
    mounts: { [corpus]: ['/input', 'ro'], [job]: ['/job', 'ro'], [out]: ['/out', 'rw'] },
  });
  assert.equal(p.code, 0, p.stderr);
  const facts = Object.fromEntries(readParts(join(out, 'probe')).join('').trim().split('\n').map((l) => l.split('\t') as [string, string]));
  const limits = commandLimits({ memoryLimitBytes: memory } as StreamingSpec);
  assert.deepEqual(facts, {
    uid: String(POD_UID),
    gid: String(POD_UID),
    CapEff: '0000000000000000',
    CapBnd: '0000000000000000',
    NoNewPrivs: '1',
    data: String(limits.memoryBytes),
    nofile: String(limits.openFiles),
    interfaces: 'lo',
    pid1: '/usr/bin/tini',
    'write /app': 'Read-only file system',
  });
});

test('the manager in a pod, on PostgreSQL through its socket: the web UI built into the image, and a word count submitted from a client pod', { skip }, async () => {
  const postgres: PostgresServer = await startPostgres();
  let manager: Pod | undefined;
  try {
    const port = new URL(postgres.url).port;
    const socket = `/run/postgresql/.s.PGSQL.${port}`;
    const data = podDir(join(dir, 'data'));
    const client = podDir(join(dir, 'client'));
    const password = randomBytes(12).toString('hex');
    manager = await startPod(image, ['manager'], {
      mounts: { [join(postgres.dir, `.s.PGSQL.${port}`)]: [socket, 'rw'], [data]: ['/data', 'rw'] },
      env: {
        // Over the Unix socket: the pod has no network (PostgreSQL's local connections are trusted).
        DATABASE_URL: `postgres://torpedo@/torpedo?host=/run/postgresql&port=${port}`,
        TORPEDO_JWT_SECRET: randomBytes(32).toString('hex'),
        TORPEDO_ADMIN_PASSWORD: password,
      },
      ready: /listening on http/,
    });
    const server = 'http://127.0.0.1:7777';
    // A client pod in the manager's network namespace: its loopback is the manager's.
    const cli = async (args: readonly string[], env: Record<string, string> = {}) => {
      const r = await runPod(image, [...args, '--server', server], {
        network: `container:${manager?.name}`,
        mounts: { [client]: ['/client', 'rw'], [corpus]: ['/input', 'ro'] },
        env: { TORPEDO_CONFIG_DIR: '/client/config', ...env },
      });
      assert.equal(r.code, 0, `torpedo ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    // The UI is served from the build made in the image (the key of this checkout's web/), and
    // the manager built nothing: /app is read-only and its log says no build.
    const page = await runPod(image, ['--', 'node', '--input-type=module', '-e', FETCH_UI, server], { entrypoint: '/usr/bin/tini', network: `container:${manager.name}` });
    assert.equal(page.code, 0, page.stderr);
    const ui = JSON.parse(page.stdout) as { status: number; html: string; assets: { path: string; status: number; bytes: number }[] };
    assert.equal(ui.status, 200);
    const built = `/app/node_modules/.cache/torpedo-web/${webSourceKey()}`;
    assert.equal(ui.html, (await manager.exec(['cat', `${built}/index.html`])).stdout);
    assert.ok(ui.assets.length > 0 && ui.assets.every((a) => a.status === 200 && a.bytes > 0), JSON.stringify(ui.assets));
    assert.equal((await manager.exec(['ls', '/app/node_modules/.cache/torpedo-web'])).stdout.trim(), webSourceKey());
    assert.doesNotMatch(await manager.logs(), /built the web UI/);
    assert.match((await manager.exec(['touch', `${built}/x`])).stderr, /Read-only file system/);
    // PID 1 is tini, with the manager under it, as the pod's uid.
    assert.equal((await manager.exec(['cat', '/proc/1/cmdline'])).stdout.split('\0')[0], '/usr/bin/tini');
    assert.equal((await manager.exec(['id', '-u'])).stdout.trim(), String(POD_UID));

    await cli(['login', '--username', 'admin'], { TORPEDO_PASSWORD: password });
    await cli(['datasets', 'upload', '/input/prose.txt', '--name', 'prose']);
    await cli(['datasets', 'upload', '/input/sample.txt', '--name', 'sample']);
    const job = JSON.parse(await cli(['submit', 'wordcount', '--input', 'prose', 'sample', '--reducers', '3', '--wait', '--json'])) as { id: string; status: string };
    assert.equal(job.status, 'succeeded', JSON.stringify(job));
    await cli(['output', job.id, '--out', '/client/out']);
    assert.deepEqual(readParts(join(client, 'out')), oracle);
    // The job is a row of the host's PostgreSQL.
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const rows = await db.query('SELECT status FROM torpedo.jobs WHERE id = $1', [job.id]);
      assert.deepEqual(rows.rows, [{ status: 'succeeded' }]);
    } finally {
      await db.end();
    }
  } finally {
    await manager?.remove();
    await postgres.stop();
  }
});

/** Run by node in a client pod: GET / and every asset it names; one JSON line. */
const FETCH_UI = `
const server = process.argv[1];
const res = await fetch(server + '/');
const html = await res.text();
const assets = [];
for (const [, path] of html.matchAll(/(?:src|href)="(\\/assets\\/[^"]+)"/g)) {
  const a = await fetch(server + path);
  assets.push({ path, status: a.status, bytes: (await a.arrayBuffer()).byteLength });
}
console.log(JSON.stringify({ status: res.status, html, assets }));
`;
