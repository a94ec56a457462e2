import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';
import type { JobLayout } from '../master/job-layout.ts';
import type { MasterSpec } from '../master/master-spec.ts';
import { BIN, PACKAGE_DIRS } from '../paths.ts';
import { cleanEnv, confine, jobIdentity, randomSlot, SANDBOX_MASTER_SOCKET, sandboxIds, sandboxSupport, type ConfinedCommand, type SandboxIdentity, type SandboxLimits, type SandboxPolicy } from '../sandbox/index.ts';
import type { MasterSocket } from './launcher.ts';
import { isRemoteUri } from '../storage/storage-uri.ts';
import { jobGateway, SANDBOX_S3_SOCKET } from './job-gateway.ts';
import { sandboxArgs } from './sandbox-args.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** How a job's local workers are confined; the manager gives each job a uid of its own. */
export interface WorkerConfinement {
  /** A uid of the job's own (the manager's jobs), or the caller's (`torpedo run`). */
  readonly identity: SandboxIdentity | 'caller';
  /** Paths to keep hidden though they lie inside torpedo's directory (the manager's home). */
  readonly hidden?: readonly string[];
}

/** The command line of each worker of a job, and the socket their master listens on. */
export interface WorkerLaunch {
  readonly command: (workerId: string, masterUrl: string, token: string) => ConfinedCommand;
  readonly masterSocket?: MasterSocket;
  /** Removes what the launch made (the socket's directory); after the workers and the master are gone. */
  readonly cleanup: () => void;
}

/**
 * How a job's workers start on this machine. With the sandbox (`spec.sandbox`), where
 * bubblewrap works, each worker runs confined (`workerPolicy`) and reaches its master through a
 * Unix socket, having no network; Node's permission model stays inside as a second layer.
 * Where bubblewrap does not work, workers have only the permission model, as before. Without
 * the sandbox they run as plain child processes with this process's environment.
 */
export function workerLaunch(spec: MasterSpec, layout: JobLayout, o: { confinement?: WorkerConfinement; nodeArgs?: readonly string[] } = {}): WorkerLaunch {
  const confinement = o.confinement ?? (spec.sandbox ? defaultConfinement() : { identity: 'caller' });
  const debugArgs = (process.env['TORPEDO_WORKER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs = [
    ...(spec.sandbox ? sandboxArgs({ inputs: inputPaths(spec), output: spec.output, workDir: layout.workDir, streaming: spec.streaming !== undefined }) : []),
    ...(spec.workerMemoryBytes > 0 ? [`--max-old-space-size=${Math.max(16, Math.floor(spec.workerMemoryBytes / MIB))}`] : []),
    ...(o.nodeArgs ?? []),
    ...debugArgs,
    '--enable-source-maps',
  ];
  const argv = (workerId: string, masterUrl: string): string[] => [process.execPath, ...nodeArgs, BIN, 'worker', '--master', masterUrl, '--id', workerId];
  const bubblewrap = spec.sandbox && sandboxSupport().level !== 'none';
  if (!bubblewrap) {
    if (confinement.identity !== 'caller') throw new TorpedoError('TORPEDO_ERR_SANDBOX', `this job's workers need a sandbox of their own, and ${spec.sandbox ? sandboxSupport().reason : 'its sandbox is off'}`);
    // Confined by the permission model alone, workers get no credentials: objects through a gateway.
    const gatewayDir = spec.sandbox ? mkdtempSync(join(tmpdir(), 'torpedo-gateway-')) : undefined;
    const gateway = gatewayDir !== undefined ? jobGateway(spec, join(gatewayDir, 's3.sock')) : undefined;
    return {
      command: (workerId, masterUrl, token) => {
        const [file, ...args] = argv(workerId, masterUrl) as [string, ...string[]];
        const env = spec.sandbox ? cleanEnv({ TORPEDO_TOKEN: token, ...(gateway !== undefined ? { TORPEDO_S3_GATEWAY: gateway.address } : {}) }) : { ...process.env, TORPEDO_TOKEN: token };
        return { file, args, env: env as Record<string, string>, cwd: undefined, confined: false };
      },
      cleanup: () => {
        void gateway?.close();
        if (gatewayDir !== undefined) rmSync(gatewayDir, { recursive: true, force: true });
      },
    };
  }
  if (confinement.identity !== 'caller') {
    checkReadable(spec.inputs, confinement.identity);
    grantWorkerDirs(layout, confinement.identity);
    // Side files, a streaming job's or a JavaScript job's (ctx.files), readable by the job's uid.
    const filesDir = spec.streaming?.filesDir ?? (spec.sideFiles !== undefined && spec.sideFiles.length > 0 ? layout.files : undefined);
    const files = filesDir !== undefined ? [filesDir, ...readdirSync(filesDir).map((f) => join(filesDir, f))] : [];
    grantReadable(layout.workDir, [layout.bundle, ...files], confinement.identity);
  }
  // The socket's directory is the master's (0700): a worker sees only the socket, bound into its sandbox.
  const socketDir = mkdtempSync(join(tmpdir(), 'torpedo-master-'));
  const socketPath = join(socketDir, 'sock');
  const owner = confinement.identity === 'caller' ? undefined : { uid: confinement.identity.uid, gid: confinement.identity.gid };
  // Objects in S3 through the job's storage gateway, the only way out of a sandbox with no network.
  const gateway = jobGateway(spec, join(socketDir, 's3.sock'));
  if (gateway !== undefined && owner !== undefined) void gateway.ready.then(() => chownSync(gateway.address, owner.uid, owner.gid));
  const env = (token: string): Record<string, string> => cleanEnv({ TORPEDO_TOKEN: token, ...(gateway !== undefined ? { TORPEDO_S3_GATEWAY: SANDBOX_S3_SOCKET } : {}) });
  const binds = gateway !== undefined ? [{ source: gateway.address, target: SANDBOX_S3_SOCKET }] : [];
  return {
    command: (workerId, masterUrl, token) => confine(workerPolicy(spec, layout, confinement, env(token), socketPath, binds), argv(workerId, masterUrl)),
    masterSocket: { path: socketPath, url: `unix:${SANDBOX_MASTER_SOCKET}`, ...(owner !== undefined ? { owner } : {}) },
    cleanup: () => {
      void gateway?.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

/**
 * How workers are confined when no one says: where root can give them a uid of their own (the
 * `full` level), one picked at random for this job; else the caller's uid, in namespaces. Root
 * never runs user code as root.
 */
export function defaultConfinement(): WorkerConfinement {
  if (sandboxSupport().level !== 'full') return { identity: 'caller' };
  const ids = sandboxIds();
  return { identity: jobIdentity(ids, randomSlot(ids), undefined) };
}

/**
 * Inputs must be readable by the job's uid: by everyone, or by a group it has (a user's datasets
 * are readable by that user's group). Checked before anything runs, for a clear message rather
 * than every task failing with EACCES.
 */
export function checkReadable(inputs: readonly string[], identity: SandboxIdentity): void {
  const readable = (path: string, bits: { other: number; group: number }): boolean => {
    const st = statSync(path);
    return st.uid === identity.uid || (st.mode & bits.other) !== 0 || ((st.mode & bits.group) !== 0 && (st.gid === identity.gid || identity.groups.includes(st.gid)));
  };
  const visit = (path: string): void => {
    const dir = statSync(path).isDirectory();
    if (!readable(path, dir ? { other: 0o005, group: 0o050 } : { other: 0o004, group: 0o040 })) {
      throw new TorpedoError(
        'TORPEDO_ERR_INPUT_NOT_FOUND',
        `input ${JSON.stringify(path)} cannot be read by the job's sandbox, which runs as uid ${identity.uid}, not as you: make it readable (chmod o+r${dir ? 'x' : ''}), or run with --no-sandbox`,
      );
    }
    if (dir) for (const entry of readdirSync(path)) if (!entry.startsWith('.') && !entry.startsWith('_')) visit(join(path, entry));
  };
  for (const input of inputs) if (!isRemoteUri(input)) visit(input);
}

/**
 * What a worker must be able to read of its job's input: the inputs, and where links inside them
 * lead outside them. Called by workerLaunch (Node's permission model) and workerPolicy (the
 * sandbox's read-only paths).
 */
function inputPaths(spec: Pick<MasterSpec, 'inputs' | 'linkedInputs'>): string[] {
  return [...spec.inputs.filter((i) => !isRemoteUri(i)), ...(spec.linkedInputs ?? [])];
}

/**
 * What a worker sees: torpedo (read-only), the job's inputs (read-only), its job directory
 * (read-only: the bundle, the setup result), and, writable, only the directories where attempts
 * work and commit (attempts/, map/, reduce/) and where they keep their logs (OUTPUT/_logs/, which
 * its readers open without following links: protocol/attempt-logs.ts). Nothing of the master's files (job.json, counters,
 * logs) can be changed from inside, and nothing the master later reads as root is a path a
 * worker could have made a link.
 */
export function workerPolicy(spec: MasterSpec, layout: JobLayout, c: WorkerConfinement, env: Record<string, string>, socketPath: string, moreBinds: SandboxPolicy['binds'] = []): SandboxPolicy {
  return {
    identity: c.identity,
    readOnly: [...PACKAGE_DIRS, ...inputPaths(spec), layout.workDir],
    readWrite: [layout.attempts, layout.map, layout.reduce, layout.attemptLogs],
    hidden: c.hidden ?? [],
    binds: [...(socketPath === '' ? [] : [{ source: socketPath, target: SANDBOX_MASTER_SOCKET }]), ...moreBinds],
    env,
    proc: true,
    limits: workerLimits(spec),
  };
}

/**
 * Limits of each worker: memory for its map buffer, its heap and WebAssembly tables (countTokens)
 * and Node itself; a streaming job's commands have their own (streaming-process.ts). The process
 * count covers every worker of the job with its threads and commands, and then some, but not a
 * fork bomb. CPU time is a backstop only: the master's task time limit stops a long attempt.
 */
export function workerLimits(spec: MasterSpec): SandboxLimits {
  const heap = spec.workerMemoryBytes > 0 ? spec.workerMemoryBytes : 4 * GIB;
  const tasks = spec.splits.length + spec.reducers + 1;
  const perTaskSeconds = spec.taskTimeoutMs > 0 ? spec.taskTimeoutMs / 1000 : 24 * 3600;
  return {
    processes: 256 + 64 * spec.workers,
    memoryBytes: spec.memoryBytes + heap + GIB,
    addressSpaceBytes: 0,
    cpuSeconds: Math.ceil(Math.min(2 * tasks * perTaskSeconds, 30 * 24 * 3600)),
    openFiles: Math.max(4096, spec.splits.length + 1024),
    tmpBytes: 64 * MIB,
  };
}

/**
 * Gives a job's own uid the directories its workers write (attempts/, map/, reduce/, _logs/: mode 0700),
 * and what a resumed job's earlier workers committed in them; attempts of an earlier run are
 * removed. Called before any worker of the job runs (a process of the uid could otherwise swap
 * an entry for a link under this root process): by uid, workers of other jobs cannot reach
 * these paths at all (their sandboxes do not show them; TORPEDO_HOME is 0700).
 */
export function grantWorkerDirs(layout: JobLayout, identity: SandboxIdentity): void {
  rmSync(layout.attempts, { recursive: true, force: true });
  mkdirSync(layout.attempts, { mode: 0o700 });
  mkdirSync(layout.attemptLogs, { recursive: true, mode: 0o700 });
  for (const dir of [layout.attempts, layout.map, layout.reduce, layout.attemptLogs]) {
    chownSync(dir, identity.uid, identity.gid);
    chmodSync(dir, 0o700);
    // Committed outputs: files, owned by an earlier run's uid after a restart. lchown: never follow.
    for (const entry of readdirSync(dir)) lchownSync(join(dir, entry), identity.uid, identity.gid);
  }
}

/**
 * Lets a job's own uid read `files` (made by this process, perhaps with umask 077) in `dir`,
 * (directories among them: and list them), and pass through `dir` without listing it: the
 * sandbox binds `dir`, and its mode still applies.
 */
export function grantReadable(dir: string, files: readonly string[], identity: SandboxIdentity | 'caller'): void {
  if (identity === 'caller') return;
  chmodSync(dir, 0o711);
  for (const f of files) chmodSync(f, statSync(f).isDirectory() ? 0o755 : 0o644);
}
