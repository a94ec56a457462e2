// Real containers of the built image (deploy/Dockerfile), with podman, for the tests that run the
// image as each of its roles (test/container-image.test.ts). A container is run as a pod of the
// Kubernetes objects would be (src/kubernetes/objects.ts): uid:gid 10001:10001, a read-only root,
// every capability dropped, no privilege escalation, a private /tmp (the pods' emptyDir), the
// image's entrypoint (tini as PID 1). Containers get no network (`--network none`: only their own
// loopback); a client joins a server's network namespace (`--network container:NAME`), and
// PostgreSQL is reached through its Unix socket, bound into the container.
//
// The podman options this kind of host needs are deploy/podman-flags.sh's, computed the same way:
// runc rather than crun (hybrid cgroups), and resource limits at or below this process's hard ones.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.ts';

/** The image's user (deploy/Dockerfile's USER), which pods run as. */
export const POD_UID = 10001;

/** Why containers cannot run here, or undefined when they can (podman, as root). */
export function containersUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `containers need Linux (this is ${process.platform})`;
  const version = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) return 'podman is not installed (apt-get install podman runc mmdebstrap)';
  if (process.getuid?.() !== 0) return 'the container tests need root (rootful podman: bind mounts owned by the pods’ uid 10001)';
  return undefined;
}

/** Options before podman's subcommand: the OCI runtime (TORPEDO_PODMAN_RUNTIME, else runc). */
export function podmanGlobal(): string[] {
  const own = process.env['TORPEDO_PODMAN_RUNTIME'];
  if (own !== undefined && own !== '') return ['--runtime', own];
  for (const dir of (process.env['PATH'] ?? '').split(':').concat('/usr/sbin', '/usr/bin')) {
    const runc = join(dir, 'runc');
    if (spawnSync(runc, ['--version']).status === 0) return ['--runtime', runc];
  }
  return [];
}

/** `--ulimit` options at or below this process's hard limits (as deploy/podman-flags.sh). */
export function podmanLimits(): string[] {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (label: string, cap: number): number => {
    const row = limits.split('\n').find((l) => l.startsWith(label));
    const value = row?.slice(label.length).trim().split(/\s+/)[1];
    return value === undefined || value === 'unlimited' ? cap : Math.min(Number(value), cap);
  };
  const nofile = hard('Max open files', 65_536);
  const nproc = hard('Max processes', 16_384);
  return [`--ulimit=nofile=${nofile}:${nofile}`, `--ulimit=nproc=${nproc}:${nproc}`];
}

export interface BuiltImage {
  readonly name: string;
  /** deploy/build-image.sh's summary line (size, build time, base), or how the image was chosen. */
  readonly summary: string;
}

let built: Promise<BuiltImage> | undefined;

/**
 * The image under test, built once per test process: `$TORPEDO_TEST_IMAGE` when set (.ci/run builds
 * it once for the whole run), else deploy/build-image.sh builds localhost/torpedo:test from this
 * checkout, on the Debian base of deploy/base-image.sh (made once, then reused) when mmdebstrap is
 * installed. Unchanged sources hit podman's layer cache: a rebuild then takes seconds.
 */
export function testImage(): Promise<BuiltImage> {
  built ??= (async () => {
    const given = process.env['TORPEDO_TEST_IMAGE'];
    if (given !== undefined && given !== '') {
      execFileSync('podman', ['image', 'exists', given]);
      return { name: given, summary: `image ${given} (TORPEDO_TEST_IMAGE)` };
    }
    const name = 'localhost/torpedo:test';
    const debian = spawnSync('mmdebstrap', ['--version']).status === 0 ? ['--debian-base'] : [];
    const out = await new Promise<string>((resolve, reject) => {
      execFile('bash', [join(ROOT, 'deploy', 'build-image.sh'), '--quiet', '--tag', name, ...debian], { timeout: 900_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`deploy/build-image.sh failed: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
    return { name, summary: out.trim().split('\n').at(-1) ?? '' };
  })();
  return built;
}

export interface PodOptions {
  /** host path → [container path, 'ro' | 'rw'] */
  readonly mounts?: Readonly<Record<string, readonly [string, 'ro' | 'rw']>>;
  readonly env?: Readonly<Record<string, string>>;
  /** `none` (default) or `container:NAME` (join a running container's network namespace). */
  readonly network?: string;
  readonly name?: string;
  /** Instead of the image's entrypoint (tini → torpedo): for a probe, never for the role itself. */
  readonly entrypoint?: string;
}

let counter = 0;
/** A container name of this test process's own (so that cleaning up touches nothing else). */
export function podName(role: string): string {
  return `torpedo-test-${process.pid}-${role}-${++counter}`;
}

/** `podman run` options of a pod of the image: see the top of this file. */
export function podArgs(o: PodOptions): string[] {
  const args = [
    ...podmanLimits(),
    `--user=${POD_UID}:${POD_UID}`,
    '--read-only',
    '--read-only-tmpfs=false', // no tmpfs of podman's on /run, /var/tmp: only what pods get
    '--tmpfs=/tmp:rw,nosuid,nodev,size=256m,mode=1777',
    '--cap-drop=ALL',
    '--security-opt=no-new-privileges',
    `--network=${o.network ?? 'none'}`,
    // A net for a test that dies before its cleanup: conmon kills the container after 10 minutes.
    '--timeout=600',
  ];
  for (const [host, [path, mode]] of Object.entries(o.mounts ?? {})) args.push(`--volume=${host}:${path}:${mode}`);
  for (const [k, v] of Object.entries(o.env ?? {})) args.push(`--env=${k}=${v}`);
  if (o.name !== undefined) args.push(`--name=${o.name}`);
  if (o.entrypoint !== undefined) args.push(`--entrypoint=${o.entrypoint}`);
  return args;
}

export interface PodResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one container of `image` to its end (`--rm`) with the image's entrypoint and `args`. */
export function runPod(image: string, args: readonly string[], o: PodOptions & { timeoutMs?: number } = {}): Promise<PodResult> {
  return podman(['run', '--rm', ...podArgs({ ...o, name: o.name ?? podName('run') }), image, ...args], o.timeoutMs ?? 300_000);
}

/** `podman ARGS` (with podmanGlobal()), to its end: exit code and output, never a throw. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<PodResult> {
  return new Promise((resolve) => {
    execFile('podman', [...podmanGlobal(), ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr: err !== null && code === null ? `${stderr}\n${err.message}` : stderr });
    });
  });
}

export interface Pod {
  readonly name: string;
  /** Everything the container wrote so far (podman logs). */
  logs(): Promise<string>;
  /** `podman exec` in it, as its user. */
  exec(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<PodResult>;
  /** Removes it at once (SIGKILL). Safe to call twice. */
  remove(): Promise<void>;
}

/** Starts a detached container of `image` (entrypoint and `args`) and waits until its log matches `ready`. */
export async function startPod(image: string, args: readonly string[], o: PodOptions & { ready: RegExp; timeoutMs?: number }): Promise<Pod> {
  const name = o.name ?? podName('pod');
  const started = await podman(['run', '--detach', ...podArgs({ ...o, name }), image, ...args]);
  const pod: Pod = {
    name,
    async logs() {
      const r = await podman(['logs', name]);
      return r.stdout + r.stderr;
    },
    exec: (cmd, env = {}) => podman(['exec', ...Object.entries(env).map(([k, v]) => `--env=${k}=${v}`), name, ...cmd]),
    async remove() {
      await podman(['rm', '--force', '--time=0', name]);
    },
  };
  if (started.code !== 0) {
    await pod.remove();
    throw new Error(`podman run ${name} failed (${started.code}): ${started.stderr}`);
  }
  const deadline = Date.now() + (o.timeoutMs ?? 90_000);
  for (;;) {
    const log = await pod.logs();
    if (o.ready.test(log)) return pod;
    const state = (await podman(['inspect', '--format', '{{.State.Status}}', name])).stdout.trim();
    if (state !== 'running' || Date.now() > deadline) {
      await pod.remove();
      throw new Error(`container ${name} is ${state}, not ready (${o.ready}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
