import { spawnSync } from 'node:child_process';

/** The uid and gid of `nobody` on Debian. */
const NOBODY = 65534;

export interface Confinement {
  /** Prepended to `/bin/sh -c …`: tools that drop privileges and cut the network. */
  readonly prefix: readonly string[];
  /** uid to give the working directory to, when the command runs as another user. */
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** What the command gets, for the docs and logs. */
  readonly description: string;
}

let cached: Confinement | undefined;

/**
 * How to confine a streaming command, decided once per worker from what this machine allows:
 *  - as root: `unshare --net` (a network namespace with nothing but a down loopback) and
 *    `setpriv` to the `nobody` user with no supplementary groups and no new privileges, so the
 *    command can read only world-readable files and write only its working directory and /tmp;
 *  - otherwise: `unshare --user --net` where unprivileged user namespaces are allowed (the same
 *    user, but no network), else nothing beyond the worker's own limits.
 * Every command also gets `setpriv --pdeathsig TERM`: when its worker dies (even by SIGKILL, e.g.
 * at a task timeout), the command's shell gets SIGTERM and kills its whole process group (see
 * streaming-process.ts). `prlimit` caps its address space when the job sets a worker memory limit.
 */
export function confinement(memoryLimitBytes: number): Confinement {
  cached ??= detect();
  const limit = memoryLimitBytes > 0 ? ['prlimit', `--as=${Math.max(memoryLimitBytes, 256 * 2 ** 20)}`, '--'] : [];
  return { ...cached, prefix: [...cached.prefix, ...limit] };
}

function detect(): Confinement {
  const works = (args: string[]): boolean => spawnSync(args[0] as string, [...args.slice(1), 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  const death = ['setpriv', '--pdeathsig', 'TERM', '--'];
  if (process.getuid?.() === 0) {
    const drop = ['setpriv', '--pdeathsig', 'TERM', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--no-new-privs', '--'];
    if (works(['unshare', '--net', '--', ...drop])) {
      return { prefix: ['unshare', '--net', '--', ...drop], uid: NOBODY, gid: NOBODY, description: 'user nobody, no network' };
    }
    if (works(drop)) return { prefix: drop, uid: NOBODY, gid: NOBODY, description: 'user nobody' };
  }
  if (works(['unshare', '--user', '--net', '--', ...death])) {
    return { prefix: ['unshare', '--user', '--net', '--', ...death], uid: undefined, gid: undefined, description: 'no network' };
  }
  if (works(death)) return { prefix: death, uid: undefined, gid: undefined, description: 'not confined (no user namespaces here)' };
  return { prefix: [], uid: undefined, gid: undefined, description: 'not confined (setpriv missing)' };
}
