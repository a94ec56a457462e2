import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import { PartChecksumSchema, type PartChecksum } from './part-checksum.ts';
import { firstIssue } from './schema-issue.ts';
import { OutputFileNameSchema } from './task-names.ts';

/**
 * The checksum manifest of a job's output: the content of `OUTPUT/_SUCCESS`, one JSON object
 * listing every part file with its size and CRC-32 (8 lowercase hex digits):
 *
 *   {"format":"torpedo-manifest-1","algorithm":"crc32","parts":[{"name":"part-r-00000","bytes":12,"crc32":"3610a686"}]}
 *
 * Written by the master at job commit (master/commit-job.ts), after the parts are in place, as
 * the last thing the commit creates; read by `torpedo verify OUTPUT` (cli/verify-command.ts),
 * which checks the parts against it. An empty `_SUCCESS` is an output of a version before
 * manifests. Part files can be gigabytes: they are read as a stream, a chunk at a time.
 */

export const MANIFEST_FILE = '_SUCCESS';
export const MANIFEST_FORMAT = 'torpedo-manifest-1';

/** How much of a part is read at a time when checksumming it. */
const CHUNK_BYTES = 1 << 20;

export { PartChecksumSchema, type PartChecksum } from './part-checksum.ts';

export const OutputManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  algorithm: z.literal('crc32'),
  // A part name, never a path: a manifest cannot make `verify` read outside the output.
  parts: z
    .array(PartChecksumSchema.extend({ name: OutputFileNameSchema }))
    .refine((parts) => new Set(parts.map((p) => p.name)).size === parts.length, 'a part is listed twice'),
});
export type OutputManifest = z.infer<typeof OutputManifestSchema>;

/** The size and CRC-32 of the file at `path`, read in chunks of 1 MiB (bounded memory whatever its size). */
export async function checksumFile(path: string, signal?: AbortSignal): Promise<PartChecksum> {
  let crc = 0;
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, ...(signal !== undefined ? { signal } : {}) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc);
    bytes += chunk.length;
  }
  return { bytes, crc32: crc.toString(16).padStart(8, '0') };
}

/**
 * Writes `manifest` to `path` whole or not at all: into `tmpPath` (same file system), synced,
 * then renamed. Called by the job commit with a `tmpPath` inside `_temporary/`, so a crash
 * leaves no half manifest and no stray file in the output.
 */
export async function writeManifest(manifest: OutputManifest, path: string, tmpPath: string): Promise<void> {
  const file = await open(tmpPath, 'w');
  try {
    await file.writeFile(`${JSON.stringify(manifest)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmpPath, path);
}

/**
 * The manifest in `text`, the content of `source` (named in errors): an empty one is an output
 * of a version before manifests (TORPEDO_ERR_NO_MANIFEST); one that is not JSON or not a
 * manifest is TORPEDO_ERR_CORRUPT_DATA naming the first wrong field.
 */
export function parseManifest(text: string, source: string): OutputManifest {
  if (text.trim() === '') {
    throw new TorpedoError('TORPEDO_ERR_NO_MANIFEST', `${source} is empty: this output was written by a torpedo version before checksum manifests, and cannot be verified`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${source} is not a JSON manifest (${(e as Error).message}); was it truncated or overwritten?`);
  }
  const parsed = OutputManifestSchema.safeParse(json);
  if (!parsed.success) throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${source} is not a valid ${MANIFEST_FORMAT} manifest ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** The manifest of the output directory `dir`; TORPEDO_ERR_NO_MANIFEST if it has no `_SUCCESS` (or is no directory). */
export async function readManifest(dir: string): Promise<OutputManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    throw new TorpedoError('TORPEDO_ERR_NO_MANIFEST', `${await whyNoManifest(dir)}: it is not the output of a job that succeeded`);
  }
  return parseManifest(text, path);
}

/** For readManifest's error: what is at `dir` instead of a finished output. */
async function whyNoManifest(dir: string): Promise<string> {
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => e.code ?? 'an error');
  if (entries === 'ENOENT') return `${dir} does not exist`;
  if (typeof entries === 'string') return `${dir} is not a directory`;
  if (entries.includes('_temporary')) return `${dir} has no ${MANIFEST_FILE} but a _temporary/ (the job is running, failed or was interrupted)`;
  return `${dir} has no ${MANIFEST_FILE}`;
}

export type PartVerdict = 'ok' | 'wrong-size' | 'wrong-crc' | 'missing' | 'unlisted';

/** What `verifyOutput` found for one part: what the manifest says (absent if unlisted) and what is on disk. */
export interface PartCheck {
  readonly name: string;
  readonly verdict: PartVerdict;
  readonly expected?: PartChecksum;
  /** The part's size, and its CRC when it was read (the size matched); absent if missing. */
  readonly found?: { readonly bytes: number; readonly crc32?: string };
  /** Why a part counts as missing when something else has its name (a directory, a link). */
  readonly note?: string;
}

/**
 * Checks the output directory `dir` against its manifest: each listed part exists as a regular
 * file with the listed size and CRC, and no `part-*` file is there that the manifest does not
 * list. The listed parts come first, in the manifest's order, then the unlisted ones, sorted.
 * `onPart` is told of each check as it is made (for progress). Called by `torpedo verify`.
 */
export async function verifyOutput(dir: string, onPart?: (check: PartCheck) => void): Promise<PartCheck[]> {
  const manifest = await readManifest(dir);
  const checks: PartCheck[] = [];
  const report = (check: PartCheck): void => {
    checks.push(check);
    onPart?.(check);
  };
  for (const part of manifest.parts) report(await checkPart(dir, part));
  const listed = new Set(manifest.parts.map((p) => p.name));
  for (const name of (await readdir(dir)).filter((n) => n.startsWith('part-') && !listed.has(n)).sort()) {
    report({ name, verdict: 'unlisted' });
  }
  return checks;
}

/** One listed part against its entry: the size first (no read when it differs), then the CRC. */
async function checkPart(dir: string, part: OutputManifest['parts'][number]): Promise<PartCheck> {
  const expected = { bytes: part.bytes, crc32: part.crc32 };
  const path = join(dir, part.name);
  const stat = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (stat === undefined) return { name: part.name, verdict: 'missing', expected };
  // The commit only ever moves regular files into an output: a link here was put by someone else.
  if (!stat.isFile()) return { name: part.name, verdict: 'missing', expected, note: `not a regular file (${stat.isSymbolicLink() ? 'a symbolic link' : 'a directory or device'})` };
  if (stat.size !== part.bytes) return { name: part.name, verdict: 'wrong-size', expected, found: { bytes: stat.size } };
  const found = await checksumFile(path);
  const verdict = found.bytes !== part.bytes ? 'wrong-size' : found.crc32 !== part.crc32 ? 'wrong-crc' : 'ok';
  return { name: part.name, verdict, expected, found };
}
