/**
 * What one confined process may see and do. Every piece of user code — a job module's probe, its
 * bundling and type-checking at submit time, the workers that run `setup`, `map` and `reduce`,
 * and streaming commands — is started through `confine()` (confine.ts) with one of these.
 *
 * Paths are host paths, and appear at the same path inside the sandbox, so the engine passes
 * the same absolute paths to a confined process as to any other. Everything not listed is absent:
 * the sandbox's root is an empty tmpfs, with the system's programs and libraries (see
 * system-paths.ts) and the listed paths bound into it.
 */
export interface SandboxPolicy {
  /** Who the process runs as: a uid of its own (needs root), or the caller's uid in a user namespace. */
  readonly identity: SandboxIdentity | 'caller';
  /**
   * With the caller's identity in a user namespace: the uid and gid the process has inside it
   * (outside, it is still the caller). Default: the caller's own.
   */
  readonly namespaceUser?: { readonly uid: number; readonly gid: number };
  /** Host paths visible read-only (files or directories). Missing paths are skipped. */
  readonly readOnly: readonly string[];
  /** Host paths visible read-write. They must exist, and belong to the identity. */
  readonly readWrite: readonly string[];
  /**
   * Host paths that must stay hidden although they lie inside a visible one (TORPEDO_HOME inside
   * torpedo's directory, say): an empty directory covers each. Listed paths bound later may
   * still show parts of them.
   */
  readonly hidden?: readonly string[];
  /** Things bound at another path: a master's socket at SANDBOX_MASTER_SOCKET. */
  readonly binds?: readonly { readonly source: string; readonly target: string }[];
  /** The whole environment of the process (none of the caller's variables pass). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * Mount a /proc of the sandbox's own PID namespace. Off for commands confined inside a
   * sandbox (streaming commands in a worker): the kernel refuses a new /proc there, and the
   * outer one would show the worker.
   */
  readonly proc: boolean;
  readonly limits: SandboxLimits;
}

/** A uid of the sandbox's own, never the manager's: the job's, with its owner's dataset group. */
export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups: the dataset group of the job's owner, so that it can read its inputs. */
  readonly groups: readonly number[];
}

/**
 * Resource limits (setrlimit), applied to the confined process and inherited by everything it
 * starts. `processes` counts every process and thread of the uid, so it contains fork bombs only
 * with an identity of the sandbox's own (with 'caller' it is not applied: it would count the
 * caller's other processes too).
 */
export interface SandboxLimits {
  /** RLIMIT_NPROC: processes and threads of the identity's uid, all of them together. */
  readonly processes: number;
  /**
   * RLIMIT_DATA: the writable private memory of each process (heap, anonymous mappings). Unlike
   * the address space, it does not count V8's and WebAssembly's reserved but unused ranges.
   */
  readonly memoryBytes: number;
  /** RLIMIT_AS: each process's address space; not for Node processes (see memoryBytes). 0: none. */
  readonly addressSpaceBytes: number;
  /** RLIMIT_CPU: CPU seconds of each process; past it the kernel kills it (SIGXCPU, then SIGKILL). */
  readonly cpuSeconds: number;
  /** RLIMIT_NOFILE: open files of each process. */
  readonly openFiles: number;
  /**
   * Size of the sandbox's private /tmp (a tmpfs: memory); 0: none, and directories on the way
   * to the paths it shows are read-only, /tmp among them (point TMPDIR at a writable path).
   */
  readonly tmpBytes: number;
}

/** Where bwrap, prlimit and setpriv are (absolute: sandboxes are started with an empty PATH). */
export interface SandboxTools {
  readonly bwrap: string;
  readonly prlimit: string;
  readonly setpriv: string;
}

/** Where a confined worker finds its master's socket. */
export const SANDBOX_MASTER_SOCKET = '/run/torpedo/master.sock';

const GIB = 2 ** 30;
const MIB = 2 ** 20;

/** Limits for the Node processes of submit-time tools (bundling, type-checking) and probes. */
export const TOOL_LIMITS: SandboxLimits = {
  processes: 256,
  memoryBytes: 2 * GIB,
  addressSpaceBytes: 0,
  cpuSeconds: 120,
  openFiles: 1024,
  tmpBytes: 64 * MIB,
};

/** A confined process's whole environment: a system PATH and locale, a private /tmp, and `extra`. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp', TMPDIR: '/tmp', ...extra };
}
