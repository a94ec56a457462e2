import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../paths.ts';

/**
 * Node flags that confine a worker — and the user code it runs — with Node's permission model:
 * it may read torpedo itself, the job's inputs and its output directory, and write only the
 * job's working directory (OUTPUT/_temporary). Child processes, worker threads and native
 * addons are refused. Node documents this as no security boundary: it is the second layer,
 * inside bubblewrap's sandbox (worker-sandbox.ts), and the only one where bubblewrap cannot run.
 */
export function sandboxArgs(o: { inputs: readonly string[]; output: string; workDir: string; streaming?: boolean }): string[] {
  const read = new Set<string>([ROOT, resolve(o.output)]);
  for (const input of o.inputs) {
    read.add(resolve(input));
    // The permission model checks the path as opened; inputs reached through links need both.
    if (existsSync(input)) read.add(realpathSync(input));
  }
  return [
    '--experimental-permission',
    '--disable-warning=ExperimentalWarning',
    ...[...read].map((p) => `--allow-fs-read=${p}`),
    `--allow-fs-write=${resolve(o.workDir)}`,
    // A streaming job's worker runs no user code of its own: it starts the user's commands
    // (confined by other means: see src/streaming/command-sandbox.ts) in directories of its
    // attempts, and reads the system's paths and its own limits to confine them. (Node 20 also
    // refuses /lib when /lib64 is allowed: its prefix matching.)
    ...(o.streaming === true ? ['--allow-child-process', '--disable-warning=SecurityWarning', '--allow-fs-read=*'] : []),
  ];
}
