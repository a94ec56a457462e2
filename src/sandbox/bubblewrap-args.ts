import { existsSync, realpathSync } from 'node:fs';
import { dirname, posix } from 'node:path';
import type { SandboxLimits, SandboxPolicy, SandboxTools } from './sandbox-policy.ts';
import type { SystemPaths } from './system-paths.ts';

/** How the sandbox is made: by root (namespaces, then a uid of its own), or by anyone in a user namespace. */
export interface BubblewrapMode {
  /** The caller is root: no user namespace; setpriv changes the uid and drops every capability. */
  readonly privileged: boolean;
  readonly system: SystemPaths;
  /** The caller's own hard limits: an unprivileged caller cannot raise a limit above them. */
  readonly hardLimits?: Partial<Record<keyof SandboxLimits, number>>;
  readonly tools: SandboxTools;
}

interface Mount {
  readonly kind: 'ro' | 'rw' | 'hide';
  readonly source: string;
  readonly target: string;
  /** The path as named, which leads through a link to `source`. */
  readonly named?: boolean;
}

/**
 * The command line that runs `argv` under `policy` with bubblewrap (`bwrap`), then `prlimit`
 * (limits) and `setpriv` (identity, no capabilities, no new privileges). A pure function of its
 * arguments but for reading where symbolic links lead, so that tests can read what it makes.
 *
 * Every namespace is new: mount (an empty root with the listed paths), PID (nothing outside is
 * visible or can be signalled, and when the sandbox's first process ends the kernel kills every
 * other one), network (no interface but a loopback of its own), IPC, UTS and, where the kernel
 * has them, cgroup. `--die-with-parent` ends it when its starter dies; `--new-session` takes it
 * off the starter's terminal.
 */
export function bubblewrapArgs(policy: SandboxPolicy, argv: readonly string[], mode: BubblewrapMode): string[] {
  const args = ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (!mode.privileged) {
    args.push('--unshare-user', '--disable-userns');
    if (policy.namespaceUser !== undefined) args.push('--uid', String(policy.namespaceUser.uid), '--gid', String(policy.namespaceUser.gid));
  }
  // No environment here: bwrap passes on its own, which confine() makes the policy's. Given as
  // `--setenv NAME VALUE`, the job's token would be on bwrap's command line, which every user sees.
  args.push('--die-with-parent', '--new-session');

  // The system, first: the places below are bound into it.
  const created = new Set<string>(['/']);
  const dirs = (path: string): void => {
    for (const dir of ancestors(path)) {
      if (created.has(dir)) continue;
      created.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
  };
  for (const path of mode.system.readOnly) {
    if (!existsSync(path)) continue;
    dirs(path);
    args.push('--ro-bind', path, path);
    created.add(path);
  }
  for (const link of mode.system.links) args.push('--symlink', link.target, link.path);
  if (policy.proc) args.push('--proc', '/proc');
  args.push('--dev', '/dev');
  if (policy.limits.tmpBytes > 0) {
    args.push('--perms', '1777', '--size', String(policy.limits.tmpBytes), '--tmpfs', '/tmp');
    created.add('/tmp');
  }
  created.add('/dev').add('/proc');

  for (const m of mounts(policy)) {
    dirs(m.target);
    // Empty, and not listable; passable to what is bound inside it.
    if (m.kind === 'hide') args.push('--perms', '0711', '--tmpfs', m.target);
    else args.push(m.kind === 'ro' ? '--ro-bind' : '--bind', m.source, m.target);
    created.add(m.target);
  }
  // The sandbox's own root (a tmpfs holding the mount points) takes no writes.
  args.push('--remount-ro', '/');
  if (policy.cwd !== undefined) args.push('--chdir', policy.cwd);
  args.push('--', ...limitArgs(policy, mode), ...identityArgs(policy, mode), ...argv);
  return args;
}

/**
 * The policy's paths as mounts, outermost first, so that a path inside another is mounted over it;
 * and real paths before the paths named through links. A named path may lead through a link that
 * lies inside another mount (an input in a checkout whose data directory is a link): bwrap
 * follows that link when it mounts the named path, so what it leads to must be mounted already.
 */
function mounts(policy: SandboxPolicy): Mount[] {
  const out: Mount[] = [];
  const add = (kind: Mount['kind'], path: string): void => {
    if (kind !== 'hide' && !existsSync(path)) {
      if (kind === 'rw') throw new Error(`the sandbox's writable path ${path} does not exist`);
      return;
    }
    const real = existsSync(path) ? realpathSync(path) : path;
    // Bound where it is named and where its links lead: Node opens modules by their real path.
    for (const target of new Set([real, posix.resolve(path)])) out.push({ kind, source: real, target, ...(target !== real ? { named: true } : {}) });
  };
  for (const p of policy.readOnly) add('ro', p);
  for (const p of policy.hidden ?? []) add('hide', p);
  for (const p of policy.readWrite) add('rw', p);
  for (const b of policy.binds ?? []) out.push({ kind: 'rw', source: b.source, target: b.target });
  // A path named through a link that lies inside another mount needs no mount of its own: the
  // link is there, and leads to the real path, mounted too. (Mounting it, bwrap would follow the
  // link before the sandbox's root is in place, and fail.)
  const inVisibleMount = (m: Mount): boolean => out.some((o) => o.named !== true && o.kind !== 'hide' && m.target.startsWith(`${o.target}/`));
  const kept = out.filter((m) => m.named !== true || !inVisibleMount(m));
  const depth = (p: string): number => p.split('/').filter(Boolean).length;
  const named = (m: Mount): number => (m.named === true ? 1 : 0);
  // Stable: at the same depth, read-only before hidden before writable, as listed.
  return kept
    .map((m, i) => ({ m, i }))
    .sort((a, b) => named(a.m) - named(b.m) || depth(a.m.target) - depth(b.m.target) || a.i - b.i)
    .map((x) => x.m);
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/' && d !== '.'; d = dirname(d)) out.unshift(d);
  return out;
}

/** `prlimit`: soft and hard limits at once, so the process cannot raise them again. */
function limitArgs(policy: SandboxPolicy, mode: BubblewrapMode): string[] {
  const l = policy.limits;
  const hard = mode.hardLimits ?? {};
  const cap = (key: keyof SandboxLimits, v: number): number => Math.min(v, hard[key] ?? Infinity);
  const flags = [`--data=${cap('memoryBytes', l.memoryBytes)}`, `--cpu=${cap('cpuSeconds', l.cpuSeconds)}`, `--nofile=${cap('openFiles', l.openFiles)}`, '--core=0'];
  if (l.addressSpaceBytes > 0) flags.push(`--as=${cap('addressSpaceBytes', l.addressSpaceBytes)}`);
  // The process count is per uid: with the caller's uid it would count the caller's other processes.
  if (policy.identity !== 'caller') flags.push(`--nproc=${cap('processes', l.processes)}`);
  return [mode.tools.prlimit, ...flags, '--'];
}

/** `setpriv`: the sandbox's uid, gid and groups, no capabilities, and no way to gain privileges (setuid files do nothing). */
function identityArgs(policy: SandboxPolicy, mode: BubblewrapMode): string[] {
  const drop = ['--no-new-privs', '--inh-caps=-all', '--bounding-set=-all'];
  if (policy.identity === 'caller') return [mode.tools.setpriv, ...(mode.privileged ? ['--clear-groups'] : []), ...drop, '--'];
  if (!mode.privileged) throw new Error('a sandbox with a uid of its own needs root');
  const { uid, gid, groups } = policy.identity;
  const groupFlags = groups.length > 0 ? [`--groups=${groups.join(',')}`] : ['--clear-groups'];
  return [mode.tools.setpriv, `--reuid=${uid}`, `--regid=${gid}`, ...groupFlags, ...drop, '--'];
}
