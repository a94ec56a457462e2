import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { TorpedoError } from '../errors.ts';
import { isStorageError } from '../storage/storage-errors.ts';
import { isRemoteUri } from '../storage/storage-uri.ts';
import type { Codec } from './codecs.ts';
import { ObjectSource } from './object-source.ts';
import type { Split } from './splits.ts';

// A split's file as the job planned it: opened only if it is still the same file, and never read
// past the size it had. Used by every reader of splits (split-reader.ts, compressed-reader.ts).

/** What the readers of a split read from: a local file's handle, or an object's ranged reads (object-source.ts). */
export interface SplitSource {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ readonly size: number }>;
  close(): Promise<void>;
}

/**
 * Opens a split's file for readSplit and checks it is the file the job planned: same size and
 * modification time as recorded in the split (when recorded). A file that vanished, cannot be
 * opened any more or changed is a TORPEDO_ERR_INPUT_CHANGED naming it, so that its map task
 * fails rather than read other bytes (or none) and succeed.
 */
export async function openUnchanged(split: Split): Promise<SplitSource> {
  // An object is pinned to the version planned by its ETag, read by read: nothing to open.
  if (isRemoteUri(split.file) && split.fileSize !== undefined) return new ObjectSource(split.file, split.fileSize, split.fileEtag, split.end);
  let fh: FileHandle;
  try {
    fh = await open(split.file, 'r');
  } catch (e) {
    throw cannotOpen(split, e);
  }
  if (split.fileSize === undefined && split.fileMtimeMs === undefined) return fh;
  const changed = changedSince(split, await fh.stat());
  if (changed === undefined) return fh;
  await fh.close();
  throw changed;
}

/**
 * The whole of a small file the job planned, read at once without the thread pool: four system
 * calls instead of four round trips (thousands of small files in one split). The same checks
 * as openUnchanged; a file cut while being read is a TORPEDO_ERR_INPUT_CHANGED.
 */
export function readWholeUnchanged(split: Split & { readonly fileSize: number }): Buffer {
  let fd: number;
  try {
    fd = openSync(split.file, 'r');
  } catch (e) {
    throw cannotOpen(split, e);
  }
  try {
    const changed = changedSince(split, fstatSync(fd));
    if (changed !== undefined) throw changed;
    const buf = Buffer.allocUnsafe(split.fileSize);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) throw shrankWhileRead(split, got, split.fileSize);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** A file that ended at byte `pos` while being read, though it was `size` bytes when the job was planned. */
function shrankWhileRead(split: Split, pos: number, size: number): TorpedoError {
  return inputChanged(split, `has shrunk while being read: it ends before byte ${pos}, but was ${size} bytes when the job was planned`);
}

function cannotOpen(split: Split, e: unknown): TorpedoError {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  const why = code === 'ENOENT' ? 'has vanished since the job started (it was listed when the job was planned)' : `cannot be opened any more (${code}), though it could when the job was planned`;
  return inputChanged(split, why);
}

/** Why the file open as `st` is not the one the job planned (size, mtime), or undefined if it is. */
function changedSince(split: Split, st: Stats): TorpedoError | undefined {
  const sizeDiffers = split.fileSize !== undefined && st.size !== split.fileSize;
  const timeDiffers = split.fileMtimeMs !== undefined && st.mtimeMs !== split.fileMtimeMs;
  if (!sizeDiffers && !timeDiffers) return undefined;
  const was = `${split.fileSize ?? '?'} bytes, modified ${stamp(split.fileMtimeMs)}`;
  const now = `${st.size} bytes, modified ${stamp(st.mtimeMs)}`;
  const what = st.size < (split.fileSize ?? 0) ? 'has shrunk' : 'has changed';
  return inputChanged(split, `${what} since the job started: it was ${was} when the job was planned, and is ${now}`);
}

/**
 * One read into `buf[at…]` from file offset `pos`, never past `size` (the planned size). Called by
 * readSplit and firstLineStart. Returns the bytes read: 0 at `size`; reading nothing before it
 * means the file was cut while being read, a TORPEDO_ERR_INPUT_CHANGED.
 */
export async function readUpTo(fh: SplitSource, split: Split, size: number, buf: Buffer, at: number, pos: number): Promise<number> {
  const want = Math.min(buf.length - at, size - pos);
  if (want <= 0) return 0;
  let bytesRead: number;
  try {
    ({ bytesRead } = await fh.read(buf, at, want, pos));
  } catch (e) {
    if (isStorageError(e, 'not-found')) throw inputChanged(split, 'has vanished since the job started (it was listed when the job was planned)');
    throw e;
  }
  if (bytesRead === 0 && Number.isFinite(size)) {
    throw shrankWhileRead(split, pos, size);
  }
  return bytesRead;
}

export function inputChanged(split: Split, why: string): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_INPUT_CHANGED', `input ${JSON.stringify(split.file)} ${why}; run the job again on inputs that stay as they are while it runs`, {
    file: split.file,
  });
}

function stamp(mtimeMs: number | undefined): string {
  return mtimeMs === undefined ? 'at an unknown time' : new Date(mtimeMs).toISOString();
}

/**
 * A compressed input that cannot be decoded: no retry can fix it (the master fails its task at
 * once). Called by the readers of compressed splits; `foreign`: it does not even start as the
 * codec's data does (then the message says how to read it as it is).
 */
export function corruptInput(split: Split, codec: Codec, why: string, atByte?: number, o: { foreign?: boolean } = {}): TorpedoError {
  const where = atByte !== undefined ? ` (near compressed byte ${atByte})` : '';
  const hint = o.foreign === true ? `; if it is not ${codec}-compressed, run with --input-compression none` : '';
  return new TorpedoError('TORPEDO_ERR_CORRUPT_INPUT', `input ${JSON.stringify(split.file)} is not valid ${codec} data${where}: ${why}${hint}`, { file: split.file });
}
