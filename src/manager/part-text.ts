import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { readSplit } from '../input/split-reader.ts';
import { partCompression, type PartCompression } from '../protocol/task-names.ts';

/** The Content-Type of a part file as stored (a download keeps the file as it is). */
export function partContentType(name: string): string {
  return CONTENT_TYPES[partCompression(name)];
}

const CONTENT_TYPES: Record<PartCompression, string> = {
  none: 'text/plain; charset=utf-8',
  gzip: 'application/gzip',
  zstd: 'application/zstd',
  bzip2: 'application/x-bzip2',
};

/**
 * A part file's records as text, decompressed by its name's codec (`part-r-00000.gz`), streamed:
 * what the UI previews. Called by the part route when asked to decompress; a reader that stops
 * early (a preview wants ten lines) destroys the stream, and the file is read no further. The
 * decoders are the inputs' (src/input/compressed-reader.ts: every gzip member, every zstd frame
 * with its checksum, every bzip2 stream), reading the whole part as one split.
 */
export function partText(path: string, name: string): Readable {
  const compression = partCompression(name);
  if (compression === 'none') return createReadStream(path);
  return decompressed(path, compression);
}

function decompressed(path: string, compression: Exclude<PartCompression, 'none'>): Readable {
  const size = statSync(path).size;
  async function* text(): AsyncGenerator<Buffer> {
    for await (const c of readSplit({ file: path, start: 0, end: size, fileSize: size, compression }, 1 << 16)) yield Buffer.from(c.buf.subarray(0, c.length));
  }
  return Readable.from(text(), { objectMode: false });
}
