import { existsSync, lchownSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { checksumFile, MANIFEST_FILE, MANIFEST_FORMAT, PartChecksumSchema, writeManifest, type OutputManifest, type PartChecksum } from '../protocol/output-manifest.ts';
import { mapPartName, NAMED_OUTPUT, namedOutputName, PART_EXTENSIONS, type PartCompression, type TaskRef } from '../protocol/task-names.ts';
import type { JobLayout } from './job-layout.ts';
import { mapOutputPath, partName, reducePartPath } from './job-layout.ts';
import { loadTaskCounters } from './task-counters.ts';
import { taskName } from './task-name.ts';

/**
 * Job commit, run by the master (JobCompletion) once every reduce task has committed: moves the
 * part files into the output directory, writes `_SUCCESS` last, then removes `_temporary/`. Each
 * step is a rename or a create, so a crash leaves either committed parts in `_temporary/reduce/`
 * or the output.
 *
 * `_SUCCESS` holds the output's checksum manifest (protocol/output-manifest.ts: each part's size
 * and CRC-32, for `torpedo verify`), written into `_temporary/` and renamed: it appears whole or
 * not at all. Each part's checksum is the one its reduce attempt computed as it wrote the part
 * and the master noted with its counters (`counters/reduce-NNNNN.json`); the commit reads a part
 * back only when none was noted (an attempt that found the part committed by another). A part
 * whose size is not the noted one was changed after its reducer wrote it: the commit fails loudly
 * rather than write a manifest that blesses it. A commit that crashed is finished by a resumed
 * master, which finds some parts already moved and the same notes.
 * `signal` is the job's abort: a job failed or cancelled while the parts are read gets no
 * `_SUCCESS` (the commit throws the abort's reason).
 *
 * `compression` names the parts in the output (`part-r-00000.gz`: protocol/task-names.ts); in
 * `_temporary/reduce/` they have no extension. The manifest's checksums are of the stored bytes.
 * A map-only job (R = 0) publishes its `maps` map tasks' outputs instead, as `part-m-NNNNN`.
 *
 * The parts were made by workers, which run users' code: a part must be a regular file, not a
 * link (which the manager, reading the output, would follow to a file of its choice) nor a
 * directory or device. Called when no worker runs any more (see JobCompletion), so nothing can
 * swap an entry between the check and the rename, or under the removal of `_temporary/`.
 */
export async function commitJob(layout: JobLayout, reducers: number, signal?: AbortSignal, compression: PartCompression = 'none', maps = 0): Promise<void> {
  const parts = outputParts(layout, reducers, maps, compression);
  for (const [i, part] of parts.entries()) {
    movePart(layout, part);
    // Fault injection for the tests: die in the middle of the job commit, as a crash would.
    if (process.env['TORPEDO_TEST_CRASH_IN_COMMIT'] === String(i)) process.kill(process.pid, 'SIGKILL');
  }
  const manifest: OutputManifest['parts'] = [];
  for (const part of parts) {
    signal?.throwIfAborted();
    manifest.push({ name: part.name, ...(await partChecksum(layout, part, signal)) });
  }
  signal?.throwIfAborted();
  await writeManifest({ format: MANIFEST_FORMAT, algorithm: 'crc32', parts: manifest }, join(layout.output, MANIFEST_FILE), join(layout.workDir, `${MANIFEST_FILE}.tmp`));
  rmSync(layout.workDir, { recursive: true, force: true });
}

/** One part of the output: where its task committed it, its name in OUTPUT/, and that task. */
interface OutputPart {
  readonly from: string;
  readonly name: string;
  readonly task: TaskRef;
  /** A named output's name (`emit.to`); absent for the job's parts. */
  readonly output?: string;
}

/**
 * The parts of the output, in order: each reduce task's (`part-r-NNNNN`), or in a map-only job
 * (R = 0) each map task's (`part-m-NNNNN`, from its committed output in _temporary/map/).
 */
export function outputParts(layout: JobLayout, reducers: number, maps: number, compression: PartCompression): OutputPart[] {
  const parts =
    reducers === 0
      ? Array.from({ length: maps }, (_, m) => ({ from: mapOutputPath(layout, m), name: mapPartName(m, compression), task: { kind: 'map' as const, index: m } }))
      : Array.from({ length: reducers }, (_, r) => ({ from: reducePartPath(layout, r), name: partName(r, compression), task: { kind: 'reduce' as const, index: r } }));
  return [...parts, ...namedParts(layout, reducers === 0 ? 'm' : 'r', compression)];
}

/**
 * The named outputs' files (`emit.to`): those the tasks committed in _temporary/reduce/ (or map/
 * in a map-only job), and those a crashed commit already moved into OUTPUT/, by name.
 */
function namedParts(layout: JobLayout, kind: 'r' | 'm', compression: PartCompression): OutputPart[] {
  const dir = kind === 'r' ? layout.reduce : layout.map;
  const found = new Map<string, OutputPart>();
  const add = (file: string, inTemporary: boolean): void => {
    const m = NAMED_OUTPUT.exec(file);
    if (m === null || m[2] !== kind || m[1] === 'part' || (inTemporary ? m[4] !== undefined : (m[4] ?? '') !== PART_EXTENSIONS[compression])) return;
    const index = Number(m[3]);
    const name = namedOutputName(m[1]!, kind, index, compression);
    found.set(name, { from: join(dir, namedOutputName(m[1]!, kind, index)), name, task: { kind: kind === 'r' ? 'reduce' : 'map', index }, output: m[1]! });
  };
  for (const f of existsSync(dir) ? readdirSync(dir) : []) add(f, true);
  for (const f of readdirSync(layout.output)) add(f, false);
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The size and CRC-32 of a part (moved into the output): as its task noted it, else read. */
async function partChecksum(layout: JobLayout, part: OutputPart, signal?: AbortSignal): Promise<PartChecksum> {
  const path = join(layout.output, part.name);
  const note = loadTaskCounters(layout, taskName(part.task));
  const noted = PartChecksumSchema.safeParse(part.output === undefined ? note.part : note.named?.[part.output]);
  if (!noted.success) return checksumFile(path, signal);
  const size = lstatSync(path).size;
  if (size !== noted.data.bytes) {
    throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${path} is ${size} bytes but its ${part.task.kind === 'map' ? 'map task' : 'reducer'} wrote ${noted.data.bytes}: it was changed or cut off after it was written`);
  }
  return noted.data;
}

/** Moves a task's committed part into the output, unless a crashed commit already did. */
function movePart(layout: JobLayout, part: OutputPart): void {
  const to = join(layout.output, part.name);
  const found = lstatOrUndefined(part.from);
  if (found !== undefined) {
    if (!found.isFile()) throw new Error(`${part.from} is not a regular file (a worker made it a ${found.isSymbolicLink() ? 'symbolic link' : 'directory or device'})`);
    renameSync(part.from, to);
    // A sandboxed worker's uid made it: the output is the master's user's.
    if (process.geteuid?.() === 0) lchownSync(to, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  } else if (!existsSync(to)) throw new Error(`${part.from} is missing`);
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
