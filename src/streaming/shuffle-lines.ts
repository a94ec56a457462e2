import { closeSync, openSync } from 'node:fs';
import { Merger } from '../shuffle/merge.ts';
import { readFooter, SegmentReader } from '../shuffle/run-file.ts';

const TAB = 9;
const NL = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const BATCH_BYTES = 1 << 16;

/**
 * Feeds the pairs of segment `partition` of the given run files, k-way merged by key bytes, to
 * `write` as `key<TAB>value\n` lines in batches of about 64 KB: a streaming reducer's (or
 * combiner's) stdin. Values are stored as JSON strings; most need no unescaping.
 * Returns the number of pairs and of distinct keys.
 */
export async function writeSortedLines(
  runFiles: readonly string[],
  partition: number,
  memoryBytes: number,
  write: (batch: Buffer) => Promise<void>,
): Promise<{ pairs: number; groups: number; bytes: number }> {
  const fds: number[] = [];
  try {
    const readers: SegmentReader[] = [];
    let bytes = 0;
    const perSource = Math.max(1 << 14, Math.min(1 << 20, Math.floor(memoryBytes / 4 / Math.max(1, runFiles.length))));
    for (const path of runFiles) {
      const seg = readFooter(path).segments[partition];
      if (seg === undefined || seg.pairs === 0) continue;
      const fd = openSync(path, 'r');
      fds.push(fd);
      readers.push(new SegmentReader(fd, path, seg, perSource));
      bytes += seg.length;
    }
    const merger = new Merger(readers);
    let batch = Buffer.allocUnsafe(BATCH_BYTES);
    let pos = 0;
    let pairs = 0;
    let groups = 0;
    const flush = async (): Promise<void> => {
      if (pos === 0) return;
      await write(Buffer.from(batch.subarray(0, pos)));
      pos = 0;
    };
    while (merger.next()) {
      groups++;
      merger.startGroup();
      do {
        const c = merger.current;
        const value = rawValue(c.buf, c.valueStart, c.valueEnd);
        const need = c.keyEnd - c.keyStart + value.length + 2;
        if (pos + need > batch.length) {
          await flush();
          if (need > batch.length) batch = Buffer.allocUnsafe(need);
        }
        pos += c.buf.copy(batch, pos, c.keyStart, c.keyEnd);
        batch[pos++] = TAB;
        batch.set(value, pos);
        pos += value.length;
        batch[pos++] = NL;
        pairs++;
      } while (merger.nextInGroup());
    }
    await flush();
    return { pairs, groups, bytes };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** The bytes of a JSON string value: the bytes between the quotes when nothing is escaped. */
function rawValue(buf: Buffer, start: number, end: number): Uint8Array {
  if (end - start < 2 || buf[start] !== QUOTE) return Buffer.from(buf.toString('utf8', start, end));
  const inner = buf.subarray(start + 1, end - 1);
  if (inner.indexOf(BACKSLASH) === -1) return inner;
  return Buffer.from(JSON.parse(buf.toString('utf8', start, end)) as string);
}
