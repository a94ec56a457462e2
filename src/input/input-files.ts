import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';

export interface InputFile {
  /** The path as the user named it (directories expanded with `/`), shown to jobs as `ctx.file`. */
  readonly path: string;
  readonly size: number;
}

/**
 * Expands the user's input paths into files, in a stable order: each directory recursively, its
 * entries sorted by name, skipping hidden files and those starting with `_` (Hadoop's convention
 * for `_SUCCESS`, `_temporary` …). Each path must exist and be readable.
 */
export function listInputFiles(paths: readonly string[]): InputFile[] {
  if (paths.length === 0) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no input given: pass --input PATH…');
  const files: InputFile[] = [];
  const seen = new Set<string>();
  const add = (path: string, size: number): void => {
    if (seen.has(path)) return;
    seen.add(path);
    files.push({ path, size });
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
      accessSync(p, constants.R_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input ${JSON.stringify(p)} ${why}`);
    }
    if (st.isDirectory()) walk(p, add);
    else if (st.isFile()) add(p, st.size);
    else throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input ${JSON.stringify(p)} is not a regular file or directory`);
  }
  return files;
}

function walk(dir: string, add: (path: string, size: number) => void): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input directory ${JSON.stringify(dir)} cannot be read`);
  }
  for (const name of names) {
    if (name.startsWith('.') || name.startsWith('_')) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) walk(path, add);
    else if (st.isFile()) {
      try {
        accessSync(path, constants.R_OK);
      } catch {
        throw new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input ${JSON.stringify(path)} cannot be read`);
      }
      add(path, st.size);
    }
  }
}
