import type { MapOutputOptions } from './map-output-mode.ts';

/** The text of a key given as UTF-8 bytes `buf[start, end)`. */
export function keyText(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** The partition of the key `buf[start, end)`: from its bytes if the job can, else from its text. */
export function partitionOfBytes(o: Pick<MapOutputOptions, 'partition' | 'partitionBytes'>, buf: Uint8Array, start: number, end: number): number {
  return o.partitionBytes ? o.partitionBytes(buf, start, end) : o.partition(keyText(buf, start, end));
}
