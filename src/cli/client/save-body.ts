import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { TorpedoError } from '../../errors.ts';
import { unreachable, type ApiClient } from './api-client.ts';
import type { ByteProgress } from './byte-progress.ts';

/**
 * Streams a response body to `out` or, without it, to stdout. A file is written beside its final
 * name and renamed at the end, so a broken download never leaves a truncated file behind.
 */
export async function saveBody(client: ApiClient, res: Response, out: string | undefined, progress?: ByteProgress): Promise<void> {
  if (res.body === null) throw new TorpedoError('TORPEDO_ERR_INTERNAL', 'the manager sent no body');
  const body = Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
  const stages: [Readable, ...Transform[]] = [body];
  if (progress !== undefined) stages.push(counter(progress));
  try {
    if (out === undefined) {
      try {
        // stdout stays open: it is not ours to close.
        await pipeline([...stages, process.stdout], { end: false });
      } catch (e) {
        // The reader went away (`torpedo output ID | head`): like cat, stop without complaint.
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      }
      return;
    }
    const temp = join(dirname(out), `.${basename(out)}.${process.pid}.part`);
    try {
      await pipeline([...stages, createWriteStream(temp, { flags: 'wx' })]);
      renameSync(temp, out);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  } catch (e) {
    throw unreachable(client.server, e) ?? e;
  }
}

/** A pass-through stage that reports the bytes going by. */
function counter(progress: ByteProgress): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      progress.add(chunk.length);
      done(null, chunk);
    },
  });
}
