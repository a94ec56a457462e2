import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TorpedoError } from '../errors.ts';
import { readBzip2Split } from './bzip2-split-reader.ts';
import { offsetsCount, type Codec } from './codecs.ts';
import { wholeLines, type LineChunk } from './line-chunks.ts';
import { describePosition } from './record-position.ts';
import { corruptInput, openUnchanged, readUpTo, type SplitSource } from './planned-file.ts';
import type { Split } from './splits.ts';
import { unzstdChecked } from './zstd-frames.ts';

/** Compressed bytes read at a time. */
const READ_BYTES = 1 << 20;

/**
 * The records of a compressed split, as chunks of whole lines of its decompressed data; offsets
 * are bytes of that data (docs/data-formats.md). A gzip (one or more members) or zstd file is one
 * split, read from its start; a bzip2 split reads the blocks that start in its byte range
 * (bzip2-split-reader.ts). Damaged or truncated data is a TORPEDO_ERR_CORRUPT_INPUT naming the
 * file, the codec and the reason.
 */
export async function* readCompressedSplit(split: Split, chunkBytes: number, maxRecordBytes: number): AsyncGenerator<LineChunk> {
  const codec = split.compression as Codec;
  const fh = await openUnchanged(split);
  const size = split.fileSize ?? (await fh.stat()).size;
  try {
    if (codec === 'bzip2') {
      yield* readBzip2Split(fh, split, size, chunkBytes, maxRecordBytes);
      return;
    }
    const read = { bytes: 0 };
    const data = codec === 'gzip' ? gunzip(fileBytes(fh, split, size, read)) : unzstdChecked(fileBytes(fh, split, size, read));
    yield* wholeLines(decoded(data, split, codec, read), {
      chunkBytes,
      maxRecordBytes,
      offset: 0,
      where: (offset) => describePosition({ file: split.file, offset, of: offsetsCount(split) }),
      fileBytes: () => read.bytes,
    });
  } finally {
    await fh.close();
  }
}

/** The file's bytes in order, each chunk a buffer of its own (decoders may keep them). */
async function* fileBytes(fh: SplitSource, split: Split, size: number, read: { bytes: number }): AsyncGenerator<Buffer> {
  while (read.bytes < size) {
    const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, size - read.bytes));
    const n = await readUpTo(fh, split, size, buf, 0, read.bytes);
    read.bytes += n;
    yield n === buf.length ? buf : buf.subarray(0, n);
  }
}

/** gzip through Node's zlib, which reads every member of a multi-member file. */
async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  const z = createGunzip({ chunkSize: 256 << 10 });
  const feed = Readable.from(source, { objectMode: false });
  feed.on('error', (e) => z.destroy(e));
  feed.pipe(z);
  try {
    for await (const out of z) yield out as Buffer;
  } finally {
    feed.destroy();
    z.destroy();
  }
}

/** The decoder's output, its failures made TORPEDO_ERR_CORRUPT_INPUT (the file's own errors pass). */
async function* decoded(data: AsyncIterable<Uint8Array>, split: Split, codec: Codec, read: { bytes: number }): AsyncGenerator<Uint8Array> {
  try {
    yield* data;
  } catch (e) {
    if (e instanceof TorpedoError) throw e;
    const why = reason(e);
    // zlib's "incorrect header check", or no zstd frame where the file starts: not this codec's data at all.
    const foreign = /incorrect header check|not in gzip format|at compressed byte 0 /.test(why);
    throw corruptInput(split, codec, why, read.bytes, { foreign });
  }
}

/** Why a decoder stopped, in words: zlib's and fzstd's messages are terse. */
function reason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (/unexpected end|unexpected EOF/i.test(message)) return `it is truncated (${message})`;
  return message;
}
