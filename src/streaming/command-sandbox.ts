import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { confine, sandboxSupport, type ConfinedCommand, type SandboxLimits } from '../sandbox/index.ts';
import type { StreamingSpec } from './streaming-spec.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
/** `nobody`: what a command is inside its user namespace (outside, it is its worker's uid). */
const NOBODY = 65_534;

/**
 * How a streaming command runs: in a sandbox of its own inside its worker's (sandbox-policy.ts),
 * made with a user namespace of its own in which it is `nobody`. It sees the system's programs
 * and its working directory (a copy of the job's `--file` files, at /work), nothing of torpedo,
 * the job's directories or the worker's master socket; it has no network at all, its own PID namespace
 * (it cannot see or signal its worker, and nothing it starts outlives it), no /proc, and limits:
 * memory and address space (the job's --worker-memory, else 2 GiB), CPU time (the task time
 * limit), open files.
 *
 * Where the kernel refuses a user namespace inside the worker's sandbox, the command runs in the
 * worker's sandbox as it is (no network either, but beside its worker), with the same limits.
 */
export function commandSandbox(spec: StreamingSpec, role: string, cwd: string, argv: readonly string[], jobEnv: Readonly<Record<string, string>> = {}): ConfinedCommand {
  const shims = pythonShim(shimDir(cwd));
  const env = (dir: string, bin: string): Record<string, string> => ({
    ...jobEnv,
    // The system's programs first; torpedo's shims (`python` where only python3 exists) last.
    PATH: `/usr/local/bin:/usr/bin:/bin${shims ? `:${bin}` : ''}`,
    HOME: dir,
    LANG: 'C.UTF-8',
    TMPDIR: dir,
    TORPEDO_ROLE: role,
  });
  if (!spec.confine) return { file: argv[0] as string, args: argv.slice(1), env: env(cwd, shimDir(cwd)), cwd, confined: false };
  const limits = commandLimits(spec);
  if (sandboxSupport().level === 'none') {
    // setpriv --pdeathsig: when the worker dies, the command's shell gets SIGTERM and kills its
    // process group (streaming-process.ts); prlimit: the same limits as in a sandbox.
    const prefix = ['prlimit', `--data=${limits.memoryBytes}`, `--as=${limits.addressSpaceBytes}`, `--cpu=${limits.cpuSeconds}`, `--nofile=${limits.openFiles}`, '--', 'setpriv', '--pdeathsig', 'TERM', '--'];
    return { file: prefix[0] as string, args: [...prefix.slice(1), ...argv], env: env(cwd, shimDir(cwd)), cwd, confined: false };
  }
  // Its directory appears as /work: no path of the job's, or of the manager's, shows inside.
  const binds = [{ source: cwd, target: WORK }, ...(shims ? [{ source: shimDir(cwd), target: SHIMS }] : [])];
  return confine({ identity: 'caller', namespaceUser: { uid: NOBODY, gid: NOBODY }, readOnly: [], readWrite: [], binds, env: env(WORK, SHIMS), cwd: WORK, proc: false, limits }, argv);
}

/** Where a command's shims are made: beside its working directory, not in it (its files are the user's). */
export function shimDir(cwd: string): string {
  return `${cwd}.bin`;
}

/** Where the shims appear inside a sandbox, on PATH after the system's directories. */
const SHIMS = '/opt/torpedo/bin';

/**
 * Debian and Ubuntu ship `python3` but no `python` (unless python-is-python3 is installed), and
 * scripts written for Hadoop Streaming say `python mapper.py`. Where only python3 exists, `python`
 * is offered as a script that runs it; a real `python` always wins. Returns whether there are shims.
 */
function pythonShim(dir: string): boolean {
  const onPath = (name: string): string | undefined => ['/usr/local/bin', '/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
  const python3 = onPath('python3');
  if (onPath('python') !== undefined || python3 === undefined) return false;
  mkdirSync(dir, { recursive: true });
  // A script, not a symlink: the worker runs under Node's permission model, which refuses symlinks.
  writeFileSync(join(dir, 'python'), `#!/bin/sh\nexec ${python3} "$@"\n`, { mode: 0o755 });
  return true;
}

/** Where a command's working directory appears inside its sandbox. */
const WORK = '/work';

export function commandLimits(spec: StreamingSpec): SandboxLimits {
  const memory = Math.max(spec.memoryLimitBytes > 0 ? spec.memoryLimitBytes : 2 * GIB, 256 * MIB);
  const timeout = spec.taskTimeoutMs ?? 0;
  return {
    processes: 0, // per uid: the worker's sandbox has the job's limit
    memoryBytes: memory,
    addressSpaceBytes: Math.max(4 * memory, GIB),
    cpuSeconds: timeout > 0 ? Math.ceil(timeout / 1000) + 1 : 24 * 3600,
    openFiles: 1024,
    // TMPDIR is the working directory: no /tmp of its own, so that no path outside it takes writes.
    tmpBytes: 0,
  };
}
