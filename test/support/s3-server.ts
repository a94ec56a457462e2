// Starts a real, throwaway S3 server on 127.0.0.1 for tests, and hands back its endpoint and keys.
//
// `radosgw` (the default where Debian's ceph-mon, ceph-osd and radosgw are installed): a one-node
// Ceph cluster in a temporary directory — one monitor, one OSD whose object store is memstore (in
// memory), and radosgw with its beast frontend — with cephx on, every daemon on 127.0.0.1, and an
// S3 user of known keys made with radosgw-admin. Short Paxos intervals and the rgw pools made
// beforehand (one PG each, size 1) make it answer in about a second and a half.
//
// `s3rver` (npm, the fallback): a node child process serving a directory; its keys are the ones
// it hardcodes (S3RVER/S3RVER).
//
// The kind: startS3Server({ kind }), else TORPEDO_TEST_S3, else radosgw when installed, else s3rver.
// stop() SIGKILLs the daemons and removes the directory; if the test process dies without stop(),
// an 'exit' handler and, for deaths that run no handler (SIGKILL), a detached watchdog shell do it.
// docs/s3-test-server.md says what each kind does not check.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export type S3ServerKind = 'radosgw' | 's3rver';

export interface S3Server {
  readonly kind: S3ServerKind;
  /** http://127.0.0.1:PORT; buckets are addressed path-style (http://127.0.0.1:PORT/BUCKET/KEY). */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /**
   * Environment variables a child process (the CLI, a worker) needs to reach this server with the
   * AWS SDK's default credential chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
   * AWS_ENDPOINT_URL_S3, AWS_REGION, … The JS SDK reads no variable for path-style addressing:
   * the client must set forcePathStyle itself (AWS_S3_FORCE_PATH_STYLE=true is set as the hint).
   */
  env(): Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** SIGKILLs the server's processes and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const REGION = 'us-east-1';
const CEPH_BINARIES = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/radosgw-admin', '/usr/bin/monmaptool', '/usr/bin/ceph-authtool', '/usr/bin/ceph'];
/** The pools radosgw 16 makes for its default zone; made beforehand so that it waits on none. */
const RGW_POOLS = ['.rgw.root', 'default.rgw.control', 'default.rgw.meta', 'default.rgw.log', 'default.rgw.buckets.index', 'default.rgw.buckets.data', 'default.rgw.buckets.non-ec'];

/** The kinds that can run on this machine: radosgw when Ceph's binaries are installed, and s3rver. */
export function s3ServerKinds(): S3ServerKind[] {
  return CEPH_BINARIES.every((b) => existsSync(b)) ? ['radosgw', 's3rver'] : ['s3rver'];
}

export async function startS3Server(o: { kind?: S3ServerKind; /** radosgw: the in-memory object store's size (default 1 GiB). */ memoryBytes?: number } = {}): Promise<S3Server> {
  const fromEnv = process.env.TORPEDO_TEST_S3;
  if (o.kind === undefined && fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'radosgw' && fromEnv !== 's3rver') {
    throw new Error(`TORPEDO_TEST_S3=${fromEnv}: expected radosgw or s3rver`);
  }
  const kind = o.kind ?? ((fromEnv === 'radosgw' || fromEnv === 's3rver') ? fromEnv : s3ServerKinds()[0] ?? 's3rver');
  if (kind === 'radosgw' && !s3ServerKinds().includes('radosgw')) {
    throw new Error(`radosgw asked for, but Ceph is not installed (need ${CEPH_BINARIES.join(', ')}: apt-get install ceph-mon ceph-osd radosgw ceph-common)`);
  }
  return kind === 'radosgw' ? startRadosgw(o.memoryBytes ?? 2 ** 30) : startS3rver();
}

/** An S3 client for `server` as torpedo configures one: path-style, checksums only where required. */
export function s3ClientFor(server: S3Server, o: { endpoint?: string; secretAccessKey?: string; maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint: o.endpoint ?? server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: o.secretAccessKey ?? server.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(o.maxAttempts === undefined ? {} : { maxAttempts: o.maxAttempts }),
  });
}

function makeServer(
  kind: S3ServerKind,
  endpoint: string,
  accessKeyId: string,
  secretAccessKey: string,
  stop: () => Promise<void>,
): S3Server {
  const server: S3Server = {
    kind,
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    env: () => ({
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_S3_FORCE_PATH_STYLE: 'true',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    async createBucket(name) {
      const client = s3ClientFor(server);
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    },
    stop,
  };
  return server;
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

function run(cmd: string, args: readonly string[], o: { env: NodeJS.ProcessEnv; input?: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: o.env, timeout: Math.max(1, o.timeoutMs), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => {}); // a tool that exits without reading: its failure is reported above
    child.stdin?.end(o.input ?? '');
  });
}

/** Resolves once GET / on 127.0.0.1:port answers at all (any status). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** sh -c WATCHDOG _ PID DIR: once PID is gone, SIGKILL the pids listed in DIR/pids and remove DIR. */
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -f "$2/pids" ]; then kill -9 $(cat "$2/pids") 2>/dev/null; fi
rm -rf "$2"
`;

/** A port taken between our probe and the daemon's bind fails the start quickly: try again, twice. */
async function startRadosgw(memoryBytes: number): Promise<S3Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRadosgwOnce(Date.now() + START_TIMEOUT_MS, memoryBytes);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTakenError)) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startRadosgwOnce(deadline: number, memoryBytes: number): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-ceph-'));
  const children: ChildProcess[] = [];
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');

  const killAll = (): void => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        try {
          c.ref(); // so that its 'exit' (awaited in cleanup) comes before this process may exit
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  const onExit = (): void => {
    killAll();
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // the watchdog retries
    }
  };
  process.on('exit', onExit);
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'torpedo-ceph-watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => {});
  watchdog.unref();
  const cleanup = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    killAll();
    // Wait for them to be gone before removing the directory they write in.
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    if (watchdog.pid !== undefined && watchdog.exitCode === null) {
      try {
        process.kill(-watchdog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const conf = join(dir, 'ceph.conf');
  const env = { ...process.env, CEPH_CONF: conf, LC_ALL: 'C' };
  // Rejected when a daemon exits before the server is up, so that no step waits on a dead daemon.
  let started = false;
  let exitError: Error | undefined;
  let daemonExited!: (err: Error) => void;
  const exited = new Promise<never>((_, reject) => {
    daemonExited = (err) => {
      exitError = err;
      reject(err);
    };
  });
  exited.catch(() => {}); // each race below reports it
  const tool = (cmd: string, args: readonly string[], input?: string): Promise<string> =>
    Promise.race([run(cmd, args, { env, input, timeoutMs: deadline - Date.now() }), exited]);
  const daemon = (name: string, cmd: string, args: readonly string[]): ChildProcess => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
    child.on('error', () => {});
    child.unref(); // a test that forgets stop() still exits: the 'exit' handler kills it
    children.push(child);
    if (child.pid !== undefined) appendFileSync(pidFile, `${child.pid}\n`);
    child.once('exit', (code, signal) => {
      if (started) return;
      appendFileSync(join(dir, 'exits'), `${name} exited: ${signal ?? code}\n`);
      daemonExited(new Error(`${name} exited (${signal ?? code}) during start`));
    });
    return child;
  };
  const logs = (): string =>
    ['exits', 'mon.a.log', 'osd.0.log', 'client.rgw.gw.log']
      .map((f) => `--- ${f} (last lines) ---\n${tail(join(dir, f))}`)
      .join('\n');

  try {
    const monPort = await freePort();
    const rgwPort = await freePort();
    const fsid = randomUUID();
    const osdUuid = randomUUID();
    writeFileSync(
      conf,
      [
        '[global]',
        `fsid = ${fsid}`,
        `mon host = [v2:127.0.0.1:${monPort}]`,
        'mon initial members = a',
        'public addr = 127.0.0.1',
        'public network = 127.0.0.1/32',
        'ms bind msgr1 = false',
        'ms bind ipv6 = false',
        'auth cluster required = cephx',
        'auth service required = cephx',
        'auth client required = cephx',
        `keyring = ${dir}/keyring`,
        `log file = ${dir}/$name.log`,
        'log to stderr = false',
        `admin socket = ${dir}/$name.asok`,
        `run dir = ${dir}`,
        `crash dir = ${dir}/crash`,
        `pid file = ${dir}/$name.pid`,
        `mon data = ${dir}/mon.$id`,
        `osd data = ${dir}/osd.$id`,
        `rgw data = ${dir}/rgw.$id`,
        'client mount timeout = 60',
        // A taken port fails the start at once (and it is tried again) rather than after 3 × 5 s.
        'ms bind retry count = 1',
        // The OSD keeps objects in memory (1 GiB at most), so nothing is written to the disk.
        'osd objectstore = memstore',
        `memstore device bytes = ${memoryBytes}`,
        // One OSD: pools of one replica and one PG, no warnings about it.
        'osd pool default size = 1',
        'osd pool default min size = 1',
        'osd pool default pg num = 1',
        'osd pool default pgp num = 1',
        'osd pool default pg autoscale mode = off',
        'mon allow pool size one = true',
        'mon warn on pool no redundancy = false',
        'osd crush chooseleaf type = 0',
        // A full /tmp must not stop the monitor.
        'mon data avail crit = 0',
        'mon data avail warn = 0',
        // Short intervals: the cluster is ready in about a second instead of tens.
        'paxos propose interval = 0.01',
        'paxos min wait = 0.001',
        'mon lease = 1',
        'mon election timeout = 1',
        'osd mon report interval = 1',
        'osd beacon report interval = 5',
        'osd heartbeat interval = 1',
        '',
        '[client.rgw.gw]',
        `rgw frontends = beast endpoint=127.0.0.1:${rgwPort}`,
        'rgw thread pool size = 32',
        'rgw enable usage log = false',
        'rgw enable ops log = false',
        'rgw init timeout = 60',
        '',
      ].join('\n'),
    );
    const keyring = join(dir, 'keyring');
    await tool('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await tool('ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *', '--cap', 'mds', 'allow *']);
    await tool('ceph-authtool', [keyring, '--gen-key', '-n', 'client.rgw.gw', '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx', '--cap', 'mgr', 'allow rw']);
    await tool('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    await tool('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', keyring]);
    // The OSD's key goes to the monitor with `osd new`, and into our keyring for the OSD to read.
    const osdKey = (await tool('ceph-authtool', ['--gen-print-key'])).trim();
    await tool('ceph-authtool', [keyring, '--add-key', osdKey, '-n', 'osd.0']);
    daemon('ceph-mon', 'ceph-mon', ['-f', '-i', 'a']);
    writeFileSync(join(dir, 'osd-secret.json'), JSON.stringify({ cephx_secret: osdKey }));
    const osdId = (await tool('ceph', ['osd', 'new', osdUuid, '-i', join(dir, 'osd-secret.json')])).trim();
    if (osdId !== '0') throw new Error(`ceph osd new: expected osd 0, got ${JSON.stringify(osdId)}`);
    mkdirSync(join(dir, 'osd.0'));
    await tool('ceph-osd', ['--mkfs', '-i', '0', '--osd-uuid', osdUuid, '--key', osdKey]);
    daemon('ceph-osd', 'ceph-osd', ['-f', '-i', '0']);
    // One `ceph` process reads the commands from its stdin: a Python start for all of them.
    await tool('ceph', [], RGW_POOLS.map((p) => `osd pool create ${p} 1 1\nosd pool application enable ${p} rgw\n`).join(''));
    daemon('radosgw', 'radosgw', ['-f', '-n', 'client.rgw.gw']);
    for (;;) {
      if (await answers(rgwPort)) break;
      if (exitError !== undefined) throw exitError;
      if (Date.now() > deadline) throw new Error(`radosgw did not answer on 127.0.0.1:${rgwPort} within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const accessKeyId = `TORPEDO${randomBytes(6).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString('base64url');
    await tool('radosgw-admin', ['user', 'create', '--uid=torpedo', '--display-name=torpedo', `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`]);
    started = true;
    let stopped: Promise<void> | undefined;
    return makeServer('radosgw', `http://127.0.0.1:${rgwPort}`, accessKeyId, secretAccessKey, () => (stopped ??= cleanup()));
  } catch (err) {
    started = true;
    const log = logs();
    const message = `radosgw test server did not start (${dir}): ${(err as Error).message}\n${log}`;
    await cleanup();
    throw /Address already in use/.test(log) ? new PortTakenError(message) : new Error(message);
  }
}

/** The s3rver child: serves DIR on 127.0.0.1, prints its port, and removes DIR once stdin closes. */
const S3RVER_MAIN = `
import S3rver from 's3rver';
import { rmSync } from 'node:fs';
const directory = process.argv[1];
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
const { port } = await server.run();
process.stdout.write(port + '\\n');
process.stdin.resume();
process.stdin.on('end', () => { rmSync(directory, { recursive: true, force: true }); process.exit(0); });
`;

async function startS3rver(): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'torpedo-s3rver-'));
  // Resolved from this repository's node_modules: the child runs with the repository as its cwd.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--input-type=module', '-e', S3RVER_MAIN, dir], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${signal ?? code}) during start`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`s3rver test server did not start: ${(err as Error).message}\n--- stderr ---\n${stderr}`);
  });
  child.stdout.resume();
  // A test that forgets stop() still exits; the child then sees its stdin close and cleans up.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.ref();
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  return makeServer('s3rver', `http://127.0.0.1:${port}`, 'S3RVER', 'S3RVER', stop);
}
