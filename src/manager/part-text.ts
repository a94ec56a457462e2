import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { PassThrough, Transform, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
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
 * early (a preview wants ten lines) destroys the stream, and the file is read no further.
 * Decoders: node:zlib (gzip, every member), fzstd (zstd, every frame), unbzip2-stream (bzip2,
 * every stream); docs/output-formats.md.
 */
export function partText(path: string, name: string): Readable {
  const file = createReadStream(path);
  const compression = partCompression(name);
  if (compression === 'none') return file;
  const out = new PassThrough();
  pipeline(file, decoder(compression), out, () => {
    // an error or an early stop has destroyed `out` already, with its reason
  });
  return out;
}

function decoder(compression: Exclude<PartCompression, 'none'>): NodeJS.ReadWriteStream {
  if (compression === 'gzip') return createGunzip();
  if (compression === 'bzip2') return unbzip2();
  return zstdDecoder();
}

function unbzip2(): NodeJS.ReadWriteStream {
  const require = createRequire(import.meta.url);
  return (require('unbzip2-stream') as () => NodeJS.ReadWriteStream)();
}

function zstdDecoder(): Transform {
  let push: (chunk: Uint8Array) => void = () => {};
  const d = new Decompress((chunk) => push(chunk));
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      push = (c) => this.push(Buffer.from(c));
      try {
        d.push(chunk);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      push = (c) => this.push(Buffer.from(c));
      try {
        d.push(new Uint8Array(0), true);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
}
