import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The host paths every sandbox sees read-only: the system's programs and libraries (/usr and,
 * on a merged-/usr system, the links to it), the files of /etc that programs read to start (not
 * /etc as a whole: it holds shadow, SSH keys, credentials of services) and Node itself.
 * torpedo's own directory is not among them: policies that run torpedo add it.
 */
export interface SystemPaths {
  /** Directories and files bound read-only at the same path. */
  readonly readOnly: readonly string[];
  /** Top-level links such as /bin -> usr/bin, recreated as links. */
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** Files of /etc that dynamic linking, name lookups and common interpreters read. */
const ETC = [
  'alternatives',
  'group',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'passwd',
  'perl',
  'protocols',
  'python3',
  'services',
];

let cached: SystemPaths | undefined;

export function systemPaths(): SystemPaths {
  cached ??= find();
  return cached;
}

function find(): SystemPaths {
  const readOnly = ['/usr'];
  const links: { path: string; target: string }[] = [];
  for (const path of TOP_LEVEL) {
    if (!exists(path)) continue;
    if (lstatSync(path).isSymbolicLink()) links.push({ path, target: readlinkSync(path) });
    else readOnly.push(path);
  }
  for (const name of ETC) {
    const path = join('/etc', name);
    if (exists(path)) readOnly.push(path);
  }
  // Node's own installation (its prefix: bin/node, lib/node_modules), unless /usr holds it.
  const node = realpathSync(process.execPath);
  if (!node.startsWith('/usr/')) readOnly.push(dirname(dirname(node)));
  return { readOnly, links };
}

/** Whether `path` exists; false where Node's permission model (in a worker) forbids looking. */
function exists(path: string): boolean {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}
