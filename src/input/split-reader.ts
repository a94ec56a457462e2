import { TorpedoError } from '../errors.ts';
import { isRemoteUri } from '../storage/storage-uri.ts';
import { readCompressedSplit } from './compressed-reader.ts';
import type { LineChunk } from './line-chunks.ts';
import { openUnchanged, readUpTo, readWholeUnchanged, type SplitSource } from './planned-file.ts';
import type { Split } from './splits.ts';

export type { LineChunk } from './line-chunks.ts';

const NL = 10;

/**
 * Reads the records of a split as chunks of whole lines. A record belongs to the split holding
 * its first byte: a split that starts mid-line skips to the next line, and the last line that
 * starts inside the split is read to its end even past the split (Hadoop's LineRecordReader).
 * The chunk buffer is reused: consumers must not keep it past the next iteration.
 */
export async function* readSplit(
  split: Split,
  chunkBytes = 1 << 20,
  maxRecordBytes = 256 << 20,
): AsyncGenerator<LineChunk> {
  if (split.compression !== undefined) {
    yield* readCompressedSplit(split, chunkBytes, maxRecordBytes);
    return;
  }
  const planned = split.fileSize;
  // A whole small file (a piece of a combined split, most often): read at once.
  if (planned !== undefined && split.start === 0 && split.end === planned && planned <= Math.min(chunkBytes, maxRecordBytes) && !isRemoteUri(split.file)) {
    const buf = readWholeUnchanged({ ...split, fileSize: planned });
    if (buf.length > 0) yield { buf, length: buf.length, offset: 0 };
    return;
  }
  const fh = await openUnchanged(split);
  // No byte past the size the job planned with is read; a file that ends before it shrank.
  const size = planned ?? Number.POSITIVE_INFINITY;
  try {
    const first = await firstLineStart(fh, split, size, chunkBytes);
    if (first === -1 || first >= split.end) return;
    // No bigger than the rest of the file needs (a line longer than the buffer grows it).
    let buf = Buffer.allocUnsafe(Number.isFinite(size) ? Math.max(1, Math.min(chunkBytes, size - first + 1)) : chunkBytes);
    let len = 0; // valid bytes in buf
    let base = first; // file offset of buf[0]
    let eof = false;
    let done = false;
    while (!done) {
      if (len === buf.length) {
        if (buf.length >= maxRecordBytes) {
          throw new TorpedoError(
            'TORPEDO_ERR_RECORD_TOO_LARGE',
            `${split.file} at byte ${base}: a line longer than the maximum record size (${maxRecordBytes} bytes)`,
            { file: split.file, offset: base },
          );
        }
        const bigger = Buffer.allocUnsafe(Math.min(maxRecordBytes, buf.length * 2));
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const bytesRead = await readUpTo(fh, split, size, buf, len, base + len);
      if (bytesRead === 0) eof = true;
      len += bytesRead;
      // Lines start inside the split while their first byte is before split.end.
      const limit = split.end - base; // index in buf of split.end
      let cut: number;
      if (limit <= len) {
        const nl = limit > 0 ? buf.indexOf(NL, limit - 1) : -1;
        if (limit <= 0) cut = 0;
        else if (nl !== -1 && nl < len) cut = nl + 1;
        else if (eof) cut = len;
        else continue; // the last line of the split goes on past what we have read
        done = true;
      } else if (eof) {
        cut = len;
        done = true;
      } else {
        cut = buf.lastIndexOf(NL, len - 1) + 1;
        if (cut === 0) continue; // no complete line yet: read more
      }
      if (cut > 0) yield { buf, length: cut, offset: base };
      buf.copy(buf, 0, cut, len);
      len -= cut;
      base += cut;
    }
  } finally {
    await fh.close();
  }
}

/** Offset of the first line that starts at or after `split.start`, or -1 if none does. */
async function firstLineStart(fh: SplitSource, split: Split, size: number, chunkBytes: number): Promise<number> {
  const start = split.start;
  if (start === 0) return 0;
  const buf = Buffer.allocUnsafe(Math.min(chunkBytes, 64 << 10));
  let pos = start - 1; // the byte before the split: a newline there means a line starts at `start`
  for (;;) {
    const bytesRead = await readUpTo(fh, split, size, buf, 0, pos);
    if (bytesRead === 0) return -1;
    const nl = buf.subarray(0, bytesRead).indexOf(NL);
    if (nl !== -1) return pos + nl + 1;
    pos += bytesRead;
  }
}

/** The number of lines (records) in a chunk `buf[0, length)` of whole lines; the last may lack its `\n`. */
export function countLines(buf: Buffer, length: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i !== -1 && i < length; i = buf.indexOf(NL, i + 1)) n++;
  return buf[length - 1] === NL ? n : n + 1;
}
