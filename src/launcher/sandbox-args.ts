import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_DIRS } from '../paths.ts';
import { attemptLogsDir } from '../protocol/attempt-logs.ts';
import { isRemoteUri } from '../storage/storage-uri.ts';

/**
 * Node flags that confine a worker — and the user code it runs — with Node's permission model:
 * it may read torpedo itself, the job's inputs and its output directory, and write only the
 * job's working directory (OUTPUT/_temporary) and attempts' logs (OUTPUT/_logs). Child processes, worker threads and native
 * addons are refused. Node documents this as no security boundary: it is the second layer,
 * inside bubblewrap's sandbox (worker-sandbox.ts), and the only one where bubblewrap cannot run.
 */
export function sandboxArgs(o: { inputs: readonly string[]; output: string; workDir: string; streaming?: boolean }): string[] {
  // The permission model checks the path as opened, and Node opens modules (the job's bundle) by
  // their real path: paths reached through links need both.
  const both = (path: string): string[] => (existsSync(path) ? [...new Set([resolve(path), realpathSync(path)])] : [resolve(path)]);
  const read = new Set<string>([...PACKAGE_DIRS, ...both(o.output)]);
  for (const input of o.inputs) if (!isRemoteUri(input)) for (const p of both(input)) read.add(p);
  return [
    '--experimental-permission',
    '--disable-warning=ExperimentalWarning',
    ...[...read].map((p) => `--allow-fs-read=${p}`),
    ...[...both(o.workDir), ...both(attemptLogsDir(o.output))].map((p) => `--allow-fs-write=${p}`),
    // A streaming job's worker runs no user code of its own: it starts the user's commands
    // (confined by other means: see src/streaming/command-sandbox.ts) in directories of its
    // attempts, and reads the system's paths and its own limits to confine them. (Node 20 also
    // refuses /lib when /lib64 is allowed: its prefix matching.)
    ...(o.streaming === true ? ['--allow-child-process', '--disable-warning=SecurityWarning', '--allow-fs-read=*'] : []),
  ];
}
