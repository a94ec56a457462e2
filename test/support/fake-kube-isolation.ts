// How the fake API server (fake-kube-api.ts) gives each pod's process a filesystem of its own, as
// a container runtime would: bubblewrap (`bwrap`) makes a mount namespace in which the host's root
// is the "image" (read-only when the container asks for a read-only root filesystem), every claim's
// directory and the fake's own directory are covered by empty tmpfs, and the pod's volume mounts —
// a claim's subPath, an emptyDir — are bound back on top, at their mount paths. So a pod that
// mounts one job's directory cannot see another's. Only the mount namespace is new: pods share the
// host's network (127.0.0.1), PIDs and user (no runAsUser: the tests' own uid), like the rest of
// the fake. src/sandbox/bubblewrap-args.ts is not reused: it builds a sandbox for user code (an
// empty root, no network, a uid of its own, limits), which is not what a pod is.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap'].find((p) => existsSync(p)) ?? 'bwrap';

export interface PodBind {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

let available: boolean | undefined;

/** Whether bubblewrap can make a mount namespace here (as root; else in a user namespace). */
export function isolationAvailable(): boolean {
  available ??= spawnSync(BWRAP, [...userArgs(), '--ro-bind', '/', '/', 'true'], { timeout: 10_000 }).status === 0;
  return available;
}

/**
 * The command line that runs `argv` in a pod's filesystem: `hide` covered with empty tmpfs (the
 * claims, the fake's directory), then `binds` (volume mounts; the pod's home and kubeconfig),
 * outermost first so that nested mounts go on top; with a read-only root, the tmpfs are made
 * read-only too once the mount points are in them.
 */
export function podCommand(o: { readonly readOnlyRoot: boolean; readonly hide: readonly string[]; readonly binds: readonly PodBind[]; readonly cwd: string }, argv: readonly string[]): string[] {
  const args = [BWRAP, ...userArgs(), o.readOnlyRoot ? '--ro-bind' : '--bind', '/', '/', '--dev', '/dev', '--die-with-parent'];
  const steps = [...o.hide.map((target) => ({ target, bind: undefined as PodBind | undefined })), ...o.binds.map((bind) => ({ target: bind.target, bind }))];
  const depth = (p: string): number => p.split('/').filter(Boolean).length;
  // Stable: at one depth, what is hidden before what is bound.
  for (const step of steps.map((s, i) => ({ s, i })).sort((a, b) => depth(a.s.target) - depth(b.s.target) || a.i - b.i).map((x) => x.s)) {
    if (step.bind === undefined) args.push('--tmpfs', step.target);
    else args.push(step.bind.readOnly ? '--ro-bind' : '--bind', step.bind.source, step.target);
  }
  // The directories under which a runtime makes mount points are the image's: read-only with it.
  if (o.readOnlyRoot) for (const target of o.hide) if (!o.binds.some((b) => b.target === target)) args.push('--remount-ro', target);
  args.push('--chdir', o.cwd, '--', ...argv);
  return args;
}

/** Root needs no user namespace; anyone else does (and is the same uid inside). */
function userArgs(): string[] {
  return process.geteuid?.() === 0 ? [] : ['--unshare-user'];
}
