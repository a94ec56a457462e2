import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MapOutputOptions } from './map-output-mode.ts';
import { Merger } from './merge.ts';
import { corruptRun, readFooter, RunWriter, SegmentReader, type RunFooter } from './run-file.ts';

/** Writes what a map output buffers as one sorted run at `path`, and empties the buffer. */
export type WriteBuffered = (path: string) => RunFooter;
/**
 * Writes one partition's pairs, merged from every spill in key order, to `writer`, combining each
 * key's values as its map output does.
 */
export type MergeSegment = (merged: Merger, writer: RunWriter) => void;

/**
 * The spill files of one map attempt, and when they are written and merged: `spill` writes the
 * buffer as a sorted run in the attempt's directory; `finish` writes the task's run, straight
 * from the buffer if nothing was spilled, else by merging every spill (the buffer spilled last),
 * and removes the spills. Who uses it: each MapOutputMode, one per attempt.
 */
export class SpillFiles {
  readonly #o: Pick<MapOutputOptions, 'reducers' | 'budgetBytes' | 'spillDir'>;
  readonly #writeBuffered: WriteBuffered;
  readonly #mergeSegment: MergeSegment;
  readonly #paths: string[] = [];

  constructor(options: Pick<MapOutputOptions, 'reducers' | 'budgetBytes' | 'spillDir'>, writeBuffered: WriteBuffered, mergeSegment: MergeSegment) {
    this.#o = options;
    this.#writeBuffered = writeBuffered;
    this.#mergeSegment = mergeSegment;
  }

  /** Spills written so far. */
  get count(): number {
    return this.#paths.length;
  }

  /** Writes the buffer as the next spill. Who calls: the map output, when it is over its budget. */
  spill(): void {
    const path = join(this.#o.spillDir, `spill-${this.#paths.length}`);
    this.#writeBuffered(path);
    this.#paths.push(path);
  }

  /** Writes the task's output run to `path` (which must not exist) and removes the spills. Once. */
  finish(path: string): RunFooter {
    if (this.#paths.length === 0) return this.#writeBuffered(path);
    this.spill();
    const footer = this.#merge(path);
    for (const s of this.#paths) rmSync(s, { force: true });
    return footer;
  }

  #merge(path: string): RunFooter {
    const paths = this.#paths;
    const fds = paths.map((s) => openSync(s, 'r'));
    try {
      const footers = paths.map((s) => readFooter(s));
      const writer = new RunWriter(path);
      const bufferBytes = Math.max(1 << 16, Math.floor(this.#o.budgetBytes / 4 / Math.max(1, fds.length)));
      for (let r = 0; r < this.#o.reducers; r++) {
        const readers = fds.map((fd, i) => {
          const seg = footers[i]?.segments[r];
          if (seg === undefined) throw corruptRun(paths[i] as string, `has no segment ${r}`);
          return new SegmentReader(fd, paths[i] as string, seg, bufferBytes);
        });
        this.#mergeSegment(new Merger(readers), writer);
        writer.endSegment();
      }
      return writer.close();
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }
}
