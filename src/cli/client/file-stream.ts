import { open, type FileHandle } from 'node:fs/promises';
import { ReadableStream } from 'node:stream/web';

const CHUNK_BYTES = 256 * 1024;

/**
 * A file as a web ReadableStream for a fetch body, read one chunk per pull: fetch pulls only as
 * fast as the socket drains, so memory stays at a chunk or two whatever the file's size.
 * `onChunk` sees each chunk's length (for the progress bar).
 */
export function fileStream(path: string, onChunk: (bytes: number) => void = () => {}): ReadableStream<Uint8Array> {
  let file: FileHandle | undefined;
  const close = async (): Promise<void> => {
    const f = file;
    file = undefined;
    await f?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        file = await open(path, 'r');
      },
      async pull(controller) {
        try {
          const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
          const { bytesRead } = await file!.read(buffer, 0, CHUNK_BYTES, null);
          if (bytesRead === 0) {
            await close();
            controller.close();
            return;
          }
          onChunk(bytesRead);
          controller.enqueue(buffer.subarray(0, bytesRead));
        } catch (e) {
          await close();
          throw e;
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 1 },
  );
}
