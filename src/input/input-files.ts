import { accessSync, constants, lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TorpedoError } from '../errors.ts';

export interface InputFile {
  /** The path as the user named it (directories expanded with `/`), shown to jobs as `ctx.file`. */
  readonly path: string;
  readonly size: number;
  /** Its modification time when listed: a map task refuses the file if it changed since (split-reader.ts). */
  readonly mtimeMs: number;
  /** The name jobs see instead of the path, if the inputs were given names (`nameInputs`). */
  readonly name?: string;
  /** An object's ETag when listed (inputs in an object store): reads refuse another version. */
  readonly etag?: string;
}

/**
 * The files with the names jobs see in place of their paths: `names` maps an input path as given
 * (a file, or a directory: then its files are `NAME/relative/path`) to the name. The manager names
 * a job's inputs by their datasets, so that `ctx.file` says `logs.txt`, as errors do, rather than
 * a path inside the manager's storage. Files under no named input keep their paths.
 */
export function nameInputs(files: readonly InputFile[], names: Readonly<Record<string, string>>): InputFile[] {
  const named = Object.entries(names);
  return files.map((f) => {
    for (const [path, name] of named) {
      if (f.path === path) return { ...f, name };
      if (isInside(f.path, path)) return { ...f, name: join(name, relative(path, f.path)) };
    }
    return f;
  });
}

/** What `listInputs` found: the files, and where symbolic links in the inputs lead outside them. */
export interface InputListing {
  readonly files: InputFile[];
  /**
   * Real paths (files or directories) that symbolic links inside the inputs point to and that lie
   * outside every input: a worker's sandbox must show them too (worker-sandbox.ts).
   */
  readonly linkedOutside: string[];
}

/**
 * The input files of a job, in a stable order (see `listInputs`). Called by prepareJob (through
 * `listInputs`), by the oracle of the tests, and by tests that read the same files.
 */
export function listInputFiles(paths: readonly string[]): InputFile[] {
  return listInputs(paths).files;
}

/**
 * Expands the user's input paths into files, in a stable order: each directory recursively, its
 * entries sorted by name, skipping hidden files and those starting with `_` (Hadoop's convention
 * for `_SUCCESS`, `_temporary` …). Called by prepareJob, for `torpedo run` and the manager's jobs
 * alike, before the output is touched: every refusal is a TORPEDO_ERR_INPUT_NOT_FOUND that names
 * the path.
 *
 * Symbolic links are followed, given on the command line or found in a directory, to files and
 * to directories. A dangling link, a link loop, or a directory that contains itself (a link to
 * an ancestor, found by the device and inode of the real directories) is refused. A file reached
 * by several names (links, hard links, an input given twice) is read once, under the first name.
 * Inside directories, entries that are neither files nor directories (sockets, FIFOs) are skipped.
 */
export function listInputs(paths: readonly string[]): InputListing {
  if (paths.length === 0) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no input given: pass --input PATH…');
  const walker = new InputWalker(paths);
  for (const p of paths) {
    const st = followedStat(p);
    if (st.isDirectory()) walker.directory(p, st, []);
    else if (st.isFile()) walker.file(p, st);
    else throw notFound(p, 'is not a regular file or directory');
  }
  return { files: walker.files, linkedOutside: walker.linkedOutside() };
}

/** Collects the files of one listing: what was seen (by device and inode) and where links led. */
class InputWalker {
  readonly files: InputFile[] = [];
  readonly #seen = new Set<string>();
  readonly #roots: string[];
  readonly #outside = new Set<string>();

  constructor(paths: readonly string[]) {
    this.#roots = paths.map((p) => realOrResolved(p));
  }

  /** Adds a regular file, once per (device, inode), if this process may read it. */
  file(path: string, st: Stats): void {
    const id = `${st.dev}:${st.ino}`;
    if (this.#seen.has(id)) return;
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw notFound(path, 'cannot be read');
    }
    this.#seen.add(id);
    this.files.push({ path, size: st.size, mtimeMs: st.mtimeMs });
  }

  /**
   * Adds a directory's entries, sorted by name. `ancestors` are the (device, inode) of the real
   * directories above it on this walk: meeting one again is a loop, refused.
   */
  directory(dir: string, st: Stats, ancestors: readonly { id: string; path: string }[]): void {
    const id = `${st.dev}:${st.ino}`;
    const again = ancestors.find((a) => a.id === id);
    if (again !== undefined) {
      throw notFound(dir, `is a directory loop: a symbolic link leads back to ${JSON.stringify(again.path)}, which contains it`);
    }
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      throw notFound(dir, `is a directory that cannot be read (${errnoOf(e)})`);
    }
    const below = [...ancestors, { id, path: dir }];
    for (const name of names) {
      if (name.startsWith('.') || name.startsWith('_')) continue;
      const path = join(dir, name);
      const link = isSymbolicLink(path);
      const entry = followedStat(path);
      if (link && (entry.isFile() || entry.isDirectory())) this.#noteLink(path);
      if (entry.isDirectory()) this.directory(path, entry, below);
      else if (entry.isFile()) this.file(path, entry);
    }
  }

  /** Records where the link at `path` leads, if that lies outside every input. */
  #noteLink(path: string): void {
    const target = realpathSync(path);
    if (!this.#roots.some((root) => target === root || isInside(target, root))) this.#outside.add(target);
  }

  /** The link targets outside the inputs, without those inside another of them. */
  linkedOutside(): string[] {
    const all = [...this.#outside].sort();
    return all.filter((p) => !all.some((q) => q !== p && isInside(p, q)));
  }
}

/**
 * `stat` of a path, following links, or the TORPEDO_ERR_INPUT_NOT_FOUND that says what is wrong
 * with it: missing, a dangling link (naming its target), a link loop, unreadable.
 */
function followedStat(path: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ELOOP') throw notFound(path, 'is a symbolic link loop (it leads back to itself)');
    if (code === 'ENOENT' && isSymbolicLink(path)) throw notFound(path, `is a dangling symbolic link: its target ${JSON.stringify(readlinkSync(path))} does not exist`);
    if (code === 'ENOENT') throw notFound(path, 'does not exist');
    throw notFound(path, `cannot be read (${code})`);
  }
}

/** Whether `path` is itself a symbolic link (false if it cannot be looked at). */
function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function notFound(path: string, why: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_INPUT_NOT_FOUND', `input ${JSON.stringify(path)} ${why}`);
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'error';
}

/** The real path of an input given on the command line (already checked to exist). */
function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
