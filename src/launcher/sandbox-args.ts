import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from '../paths.ts';

/**
 * Node flags that confine a local worker — and the user code it runs — with Node's permission
 * model: it may read torpedo itself, the job's inputs and its output directory, and write only
 * the job's working directory (OUTPUT/_temporary). Child processes, worker threads and native
 * addons are refused. The network is not restricted by Node 20 (the worker needs its master).
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
    // A streaming job's worker starts the user's commands (confined by other means: see
    // src/streaming/confine.ts) in fresh directories under the system's temporary directory.
    ...(o.streaming === true
      ? ['--allow-child-process', '--disable-warning=SecurityWarning', `--allow-fs-read=${join(tmpdir(), 'torpedo-stream-*')}`, `--allow-fs-write=${join(tmpdir(), 'torpedo-stream-*')}`]
      : []),
  ];
}
