import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ERRORS, type ErrorCode, TorpedoError } from '../errors.ts';
import { BIN, PACKAGE_DIRS, ROOT } from '../paths.ts';
import { ParamDeclarationsSchema, type ParamDeclarations } from '../protocol/job-params.ts';
import { cleanEnv, confine, TOOL_LIMITS, type SandboxIdentity, type SandboxPolicy } from '../sandbox/index.ts';

const PROBE_TIMEOUT_MS = 15_000;
export const DEFAULT_COMPILE_TIMEOUT_MS = 60_000;
/** tsc's and esbuild's heap; the sandbox's memory limit (TOOL_LIMITS) bounds the rest. */
const COMPILE_HEAP_MIB = 1024;

/** Who runs a submit-time tool or probe, and what it must not see. */
export interface ToolSandbox {
  /** A uid of the job's own (the manager), or the caller's (`torpedo run`). */
  readonly identity: SandboxIdentity | 'caller';
  /** Paths inside torpedo's directory to keep hidden (the manager's home, if it lies there). */
  readonly hidden?: readonly string[];
}

/**
 * Checks that a compiled job bundle loads and has `map` and `reduce`, by importing it in a
 * confined process (src/sandbox/): it sees torpedo and the bundle's directory, writes nothing,
 * has no network and none of this process's environment, with Node's permission model inside as
 * a second layer. The job's top-level code is untrusted and must not run in the CLI's or the
 * manager's process. A module that hangs while loading is stopped after 15 s.
 */
export async function probeJob(bundlePath: string, name: string, sandbox: boolean, who: ToolSandbox = { identity: 'caller' }): Promise<ProbedJob> {
  const flags = sandbox
    ? ['--experimental-permission', '--disable-warning=ExperimentalWarning', ...PACKAGE_DIRS.map((d) => `--allow-fs-read=${d}`), `--allow-fs-read=${dirname(bundlePath)}`]
    : [];
  const policy = toolPolicy(who, [...PACKAGE_DIRS, dirname(bundlePath)], []);
  const argv = [process.execPath, ...flags, BIN, 'probe-job', bundlePath, '--name', name];
  const result = await internalCommand(sandbox ? policy : undefined, argv, PROBE_TIMEOUT_MS, `${name}: the job module`);
  return probedJob(result, `${name}: the job module`);
}

/** What loading a job's bundle showed: whether it has `setup`, and the parameters it declares (if any). */
export interface ProbedJob {
  readonly hasSetup: boolean;
  /** False for a job without `reduce`: it can only run map-only (R = 0). Absent: not known (it has one). */
  readonly hasReduce?: boolean;
  readonly params?: ParamDeclarations;
}

/**
 * A probe's answer (`probe-job`, a compile pod's `check-job`) read as a ProbedJob. It comes from
 * a process that ran user code, so its `params` are checked again here. Who calls: probeJob, and
 * the Kubernetes code checker (src/kubernetes/pod-code-checker.ts).
 */
export function probedJob(answer: Record<string, unknown>, what: string): ProbedJob {
  const params = answer['params'] === undefined ? undefined : ParamDeclarationsSchema.safeParse(answer['params']);
  if (params?.success === false) throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${what}: its \`params\` are not { name: { required?, help? } }`);
  return { hasSetup: answer['hasSetup'] === true, ...(answer['hasReduce'] === false ? { hasReduce: false } : {}), ...(params?.data !== undefined ? { params: params.data } : {}) };
}

/**
 * Compiles (and type-checks) a job in a confined process, writing the bundle to `out`: esbuild
 * and tsc see torpedo (its API and types) and the source's directory, read-only, and can write
 * only the bundle's directory — an `import` of any other path finds nothing — with a time limit
 * (`timeoutMs`), a memory limit and no network.
 */
export async function compileJobInChild(
  source: string,
  out: string,
  o: { typecheck: boolean; name: string; relativeTo: string; sandbox?: ToolSandbox; timeoutMs?: number },
): Promise<void> {
  const argv = [
    process.execPath,
    `--max-old-space-size=${COMPILE_HEAP_MIB}`,
    BIN,
    'compile-job',
    source,
    '--out',
    out,
    '--name',
    o.name,
    '--relative-to',
    o.relativeTo,
    ...(o.typecheck ? ['--typecheck'] : []),
  ];
  const policy = toolPolicy(o.sandbox ?? { identity: 'caller' }, [...PACKAGE_DIRS, dirname(source)], [dirname(out)]);
  await internalCommand(policy, argv, o.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS, `${o.name}: compiling the job`);
}

function toolPolicy(who: ToolSandbox, readOnly: readonly string[], readWrite: readonly string[]): SandboxPolicy {
  return { identity: who.identity, readOnly, readWrite, hidden: who.hidden ?? [], env: cleanEnv({}), proc: true, limits: TOOL_LIMITS };
}

/** Runs a hidden command (src/cli/internal-commands.ts), confined by `policy`, and reads its one-line JSON answer. */
async function internalCommand(policy: SandboxPolicy | undefined, argv: readonly string[], timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  await ensureBundle();
  const [file, ...args] = argv as [string, ...string[]];
  // Unconfined (--no-sandbox, or TORPEDO_NO_BUNDLE=1 for tsx's loader): still none of this process's variables.
  const plain = { file, args, env: cleanEnv(process.env['TORPEDO_NO_BUNDLE'] === '1' ? { TORPEDO_NO_BUNDLE: '1' } : {}), cwd: undefined };
  const cmd = policy !== undefined ? confine(policy, argv) : plain;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(cmd.file, cmd.args, { env: cmd.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err !== null && out === '') {
        const why = err.killed ? `did not finish within ${timeoutMs / 1000} s` : `failed: ${errOut.trim().split('\n').slice(-3).join(' ')}`;
        reject(new TorpedoError('TORPEDO_ERR_USER_CODE', `${what} ${why}`));
      } else {
        resolve(out);
      }
    });
  });
  let result: { ok: boolean; code?: ErrorCode; message?: string } & Record<string, unknown>;
  try {
    result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as typeof result;
  } catch {
    throw new TorpedoError('TORPEDO_ERR_USER_CODE', `${what} printed something other than its answer: ${stdout.trim().slice(-300)}`);
  }
  // The answer comes from a process that ran user code: only a known code is taken from it.
  const code = result.code !== undefined && result.code in ERRORS ? result.code : 'TORPEDO_ERR_USER_CODE';
  if (result.ok !== true) throw new TorpedoError(code, typeof result.message === 'string' ? result.message : `${what} failed`);
  return result;
}

/**
 * Brings bin/torpedo's bundle of src/ up to date. Sandboxed processes (probes, workers) cannot
 * write it, so whoever starts them builds it first.
 */
export async function ensureBundle(): Promise<void> {
  if (process.env['TORPEDO_NO_BUNDLE'] === '1') return;
  const bundler = (await import(pathToFileURL(join(ROOT, 'bin', 'bundle.mjs')).href)) as { ensureBundle(): Promise<string> };
  await bundler.ensureBundle();
}
