import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Merger } from './merge.ts';
import { corruptRun, readFooter, RunWriter, SegmentReader, type Segment } from './run-file.ts';

/** Segment r of every map output, open for a k-way merge by key bytes. */
export interface PartitionInput {
  readonly merger: Merger;
  /** Bytes of the map outputs' segments (the reduce's shuffle bytes). */
  readonly bytes: number;
  /**
   * Throws the damage a reader found, if any: call before committing what was read, so that a
   * damaged map output fails the attempt even if user code caught the error its iterator threw.
   */
  check(): void;
  /** Closes the files and removes the merge passes' files; call once, when done or failed. */
  close(): void;
}

export interface PartitionOptions {
  /** The reduce's buffer budget; the sources' read buffers share a quarter of it. */
  readonly memoryBytes: number;
  /** Most files open at once: more sources are merged in passes first (Hadoop's io.sort.factor). */
  readonly mergeFactor: number;
  /** Where the passes write their runs: the attempt's scratch directory. */
  readonly scratchDir: string;
}

interface Source {
  readonly path: string;
  readonly segment: Segment;
}

/**
 * Opens segment `partition` of each run file (map outputs, in map task order) and merges them.
 * With more sources than `mergeFactor`, consecutive groups of them are first merged into runs of
 * their own in `scratchDir`, pass after pass, until at most `mergeFactor` are left: never more
 * than that many files are open, and ties keep map task order, so the output is the same. A run
 * file without that segment is corrupt.
 */
export function openPartition(runFiles: readonly string[], partition: number, o: PartitionOptions): PartitionInput {
  let sources: Source[] = [];
  let bytes = 0;
  for (const path of runFiles) {
    const segment = readFooter(path).segments[partition];
    if (segment === undefined) throw corruptRun(path, `has no segment ${partition}`);
    bytes += segment.length;
    if (segment.pairs > 0) sources.push({ path, segment });
  }
  const factor = Math.max(2, o.mergeFactor);
  const passFiles: string[] = [];
  try {
    for (let pass = 0; sources.length > factor; pass++) {
      const next: Source[] = [];
      for (let g = 0; g * factor < sources.length; g++) {
        const path = join(o.scratchDir, `merge-${partition}-${pass}-${g}.run`);
        passFiles.push(path);
        next.push(mergeToRun(sources.slice(g * factor, (g + 1) * factor), path, o.memoryBytes));
      }
      sources = next;
    }
    const open = openSources(sources, o.memoryBytes);
    const removePasses = (): void => passFiles.forEach((p) => rmSync(p, { force: true }));
    return {
      merger: new Merger(open.readers),
      bytes,
      check: () => {
        const failure = open.readers.find((r) => r.failure !== undefined)?.failure;
        if (failure !== undefined) throw failure;
      },
      close: () => {
        open.close();
        removePasses();
      },
    };
  } catch (e) {
    for (const p of passFiles) rmSync(p, { force: true });
    throw e;
  }
}

/** Merges `sources` into one run of one segment at `path`: one merge pass over a group. */
function mergeToRun(sources: readonly Source[], path: string, memoryBytes: number): Source {
  const open = openSources(sources, memoryBytes);
  try {
    const merger = new Merger(open.readers);
    const writer = new RunWriter(path);
    while (merger.next()) {
      const c = merger.current;
      writer.writeRaw(c.buf, c.keyStart, c.keyEnd, c.buf, c.valueStart, c.valueEnd);
    }
    writer.endSegment();
    const segment = writer.close().segments[0] as Segment;
    return { path, segment };
  } finally {
    open.close();
  }
}

/** A reader per source, each with a read buffer from a quarter of `memoryBytes` (16 KB to 1 MB). */
function openSources(sources: readonly Source[], memoryBytes: number): { readers: SegmentReader[]; close(): void } {
  const fds: number[] = [];
  const close = (): void => fds.splice(0).forEach((fd) => closeSync(fd));
  try {
    const perSource = Math.max(1 << 14, Math.min(1 << 20, Math.floor(memoryBytes / 4 / Math.max(1, sources.length))));
    const readers = sources.map(({ path, segment }) => {
      const fd = openSync(path, 'r');
      fds.push(fd);
      return new SegmentReader(fd, path, segment, perSource);
    });
    return { readers, close };
  } catch (e) {
    close();
    throw e;
  }
}
