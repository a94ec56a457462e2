import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bubblewrapArgs } from './bubblewrap-args.ts';
import { idsMapped, jobIdentity, sandboxIds } from './sandbox-ids.ts';
import type { SandboxLimits, SandboxPolicy, SandboxTools } from './sandbox-policy.ts';
import { TOOL_LIMITS } from './sandbox-policy.ts';
import { systemPaths } from './system-paths.ts';

/**
 * How far this machine lets torpedo confine user code:
 *  - `full`: bubblewrap, run by root: every namespace, and a uid of the sandbox's own;
 *  - `namespaces`: bubblewrap in a user namespace (not root): every namespace, but the caller's
 *    uid outside it, so files of the caller's that a sandbox is shown are the caller's own;
 *  - `none`: no bubblewrap, or the kernel refuses its namespaces: only Node's permission model
 *    and a clean environment (not a security boundary).
 */
export type SandboxLevel = 'full' | 'namespaces' | 'none';

export interface SandboxSupport {
  readonly level: SandboxLevel;
  /** Why it is not `full`, for the logs and errors; what it is, when it is. */
  readonly reason: string;
  /** The caller's hard limits, which an unprivileged sandbox cannot exceed. */
  readonly hardLimits: Partial<Record<keyof SandboxLimits, number>>;
  /** Where bwrap, prlimit and setpriv are (absolute: sandboxes are started with an empty PATH). */
  readonly tools: SandboxTools;
}

let cached: SandboxSupport | undefined;

/** Decided once per process, by starting a sandbox of each kind (a few milliseconds each). */
export function sandboxSupport(): SandboxSupport {
  cached ??= detect();
  return cached;
}

function detect(): SandboxSupport {
  const hardLimits = readHardLimits();
  const tools = { bwrap: which('bwrap'), prlimit: which('prlimit'), setpriv: which('setpriv') };
  const none = (reason: string): SandboxSupport => ({ level: 'none', reason, hardLimits, tools });
  if (process.env['TORPEDO_SANDBOX'] === 'off') return none('TORPEDO_SANDBOX=off');
  const version = spawnSync(tools.bwrap, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (version.error !== undefined || version.status !== 0) return none('bubblewrap (bwrap) is not installed: apt-get install bubblewrap');
  if (!existsSync(tools.prlimit) || !existsSync(tools.setpriv)) return none('prlimit and setpriv (util-linux) are missing');
  // No /proc: inside a sandbox (a worker confining its streaming commands) the kernel refuses a new one.
  const probe: SandboxPolicy = { identity: 'caller', readOnly: [], readWrite: [], env: {}, proc: false, limits: TOOL_LIMITS };
  const run = (args: string[]): string | undefined => {
    const r = spawnSync(tools.bwrap, args, { encoding: 'utf8', timeout: 10_000 });
    return r.status === 0 ? undefined : (r.stderr || r.error?.message || `exit ${r.status}`).trim();
  };
  let rootFailed: string | undefined;
  if (process.geteuid?.() === 0) {
    const ids = sandboxIds();
    if (!idsMapped(ids)) return none(`the sandbox ids ${ids.first}-${ids.last} are not all mapped in this user namespace (a container?): set TORPEDO_SANDBOX_IDS`);
    const failed = run(bubblewrapArgs({ ...probe, identity: jobIdentity(ids, 0, 0) }, ['true'], { privileged: true, system: systemPaths(), tools }));
    if (failed === undefined) return { level: 'full', reason: `bubblewrap as root, uids ${ids.first}-${ids.last}`, hardLimits, tools };
    rootFailed = failed;
  }
  // Not root, or root without its capabilities (inside a sandbox: a worker confining its commands).
  const failed = run(bubblewrapArgs(probe, ['true'], { privileged: false, system: systemPaths(), hardLimits, tools }));
  if (failed === undefined) {
    const why = rootFailed !== undefined ? `as root it failed: ${rootFailed}` : 'not root';
    return { level: 'namespaces', reason: `bubblewrap in a user namespace (${why}: no uid of its own per job)`, hardLimits, tools };
  }
  return none(`bubblewrap cannot make a user namespace here${rootFailed !== undefined ? `, nor a sandbox as root (${rootFailed})` : ' (not root)'}: ${failed}`);
}

/** A program's absolute path: the first of PATH's directories and the system's that has it. */
function which(name: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  return join('/usr/bin', name);
}

/** Hard limits from /proc/self/limits (Node has no getrlimit). */
function readHardLimits(): Partial<Record<keyof SandboxLimits, number>> {
  const rows: Record<string, keyof SandboxLimits> = {
    'Max cpu time': 'cpuSeconds',
    'Max data size': 'memoryBytes',
    'Max address space': 'addressSpaceBytes',
    'Max processes': 'processes',
    'Max open files': 'openFiles',
  };
  const out: Partial<Record<keyof SandboxLimits, number>> = {};
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    for (const [label, key] of Object.entries(rows)) {
      if (!line.startsWith(label)) continue;
      const hard = line.slice(label.length).trim().split(/\s+/)[1];
      if (hard !== undefined && hard !== 'unlimited') out[key] = Number(hard);
    }
  }
  return out;
}
