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
export function commandSandbox(spec: StreamingSpec, role: string, cwd: string, argv: readonly string[]): ConfinedCommand {
  const env = (dir: string): Record<string, string> => ({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8', TMPDIR: dir, TORPEDO_ROLE: role });
  if (!spec.confine) return { file: argv[0] as string, args: argv.slice(1), env: env(cwd), cwd, confined: false };
  const limits = commandLimits(spec);
  if (sandboxSupport().level === 'none') {
    // setpriv --pdeathsig: when the worker dies, the command's shell gets SIGTERM and kills its
    // process group (streaming-process.ts); prlimit: the same limits as in a sandbox.
    const prefix = ['prlimit', `--data=${limits.memoryBytes}`, `--as=${limits.addressSpaceBytes}`, `--cpu=${limits.cpuSeconds}`, `--nofile=${limits.openFiles}`, '--', 'setpriv', '--pdeathsig', 'TERM', '--'];
    return { file: prefix[0] as string, args: [...prefix.slice(1), ...argv], env: env(cwd), cwd, confined: false };
  }
  // Its directory appears as /work: no path of the job's, or of the manager's, shows inside.
  return confine({ identity: 'caller', namespaceUser: { uid: NOBODY, gid: NOBODY }, readOnly: [], readWrite: [], binds: [{ source: cwd, target: WORK }], env: env(WORK), cwd: WORK, proc: false, limits }, argv);
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
