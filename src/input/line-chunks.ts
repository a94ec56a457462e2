import { TorpedoError } from '../errors.ts';

/** A run of whole lines: `buf[0, length)` starts at byte `offset` of the (decompressed) data. */
export interface LineChunk {
  readonly buf: Buffer;
  readonly length: number;
  readonly offset: number;
  /**
   * Bytes of the file read so far, when they differ from the data's (a compressed file): what
   * the task's progress counts against its split's size.
   */
  readonly fileBytes?: number;
}

const NL = 10;

/**
 * Cuts a stream of data (a decompressor's output) into chunks of whole lines of about
 * `chunkBytes`, the first starting at data offset `offset` (or the one it returns once data
 * arrives); the last line may lack its `\n`. A
 * line longer than `maxRecordBytes` is a TORPEDO_ERR_RECORD_TOO_LARGE at `where(offset)`.
 * `fileBytes()`: the bytes of the file read so far, for progress. The chunk's buffer is reused:
 * consumers must not keep it past the next iteration (as readSplit's).
 */
export async function* wholeLines(
  parts: AsyncIterable<Uint8Array>,
  o: { chunkBytes: number; maxRecordBytes: number; offset: number | (() => number); where: (offset: number) => string; fileBytes: () => number },
): AsyncGenerator<LineChunk> {
  let buf = Buffer.allocUnsafe(o.chunkBytes);
  let len = 0;
  let base = -1;
  for await (const part of parts) {
    if (base === -1) base = typeof o.offset === 'number' ? o.offset : o.offset();
    let p = 0;
    while (p < part.length) {
      if (len === buf.length) {
        const cut = buf.lastIndexOf(NL, len - 1) + 1;
        if (cut > 0) {
          yield { buf, length: cut, offset: base, fileBytes: o.fileBytes() };
          buf.copy(buf, 0, cut, len);
          len -= cut;
          base += cut;
        } else {
          if (buf.length >= o.maxRecordBytes) {
            throw new TorpedoError('TORPEDO_ERR_RECORD_TOO_LARGE', `${o.where(base)}: a line longer than the maximum record size (${o.maxRecordBytes} bytes)`);
          }
          const bigger = Buffer.allocUnsafe(Math.min(o.maxRecordBytes, buf.length * 2));
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
      }
      const n = Math.min(buf.length - len, part.length - p);
      buf.set(part.subarray(p, p + n), len);
      len += n;
      p += n;
    }
  }
  if (len > 0) yield { buf, length: len, offset: base, fileBytes: o.fileBytes() };
}
