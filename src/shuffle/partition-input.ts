import { closeSync, openSync } from 'node:fs';
import { TorpedoError } from '../errors.ts';
import { Merger } from './merge.ts';
import { readFooter, SegmentReader } from './run-file.ts';

/** Segment r of every map output, open for a k-way merge by key bytes. */
export interface PartitionInput {
  readonly merger: Merger;
  /** Bytes of the segments (the reduce's shuffle bytes). */
  readonly bytes: number;
  /** Closes the files; call once, when the merge is done or has failed. */
  close(): void;
}

/**
 * Opens segment `partition` of each run file (map outputs, in map task order) and merges them.
 * Each source gets a read buffer from a quarter of `memoryBytes`, between 16 KB and 1 MB. A run
 * file without that segment is corrupt.
 */
export function openPartition(runFiles: readonly string[], partition: number, memoryBytes: number): PartitionInput {
  const fds: number[] = [];
  try {
    const readers: SegmentReader[] = [];
    let bytes = 0;
    const perSource = Math.max(1 << 14, Math.min(1 << 20, Math.floor(memoryBytes / 4 / Math.max(1, runFiles.length))));
    for (const path of runFiles) {
      const seg = readFooter(path).segments[partition];
      if (seg === undefined) throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `${path}: has no segment ${partition}`);
      if (seg.pairs === 0) continue;
      const fd = openSync(path, 'r');
      fds.push(fd);
      readers.push(new SegmentReader(fd, path, seg, perSource));
      bytes += seg.length;
    }
    return { merger: new Merger(readers), bytes, close: () => fds.forEach((fd) => closeSync(fd)) };
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
}
