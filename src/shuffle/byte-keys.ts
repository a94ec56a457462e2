import { TorpedoError } from '../errors.ts';
import type { MapOutputOptions } from './map-output-mode.ts';

/** What `emit` throws for a key that is not a string (map, combine and reduce alike); the check itself stays inline on the hot path. */
export function notAStringKey(key: unknown): TorpedoError {
  return new TorpedoError('TORPEDO_ERR_BAD_EMIT', `emit: the key must be a string, got ${typeof key}`);
}

/** The text of a key given as UTF-8 bytes `buf[start, end)`. */
export function keyText(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
}

/** The partition of the key `buf[start, end)`: from its bytes if the job can, else from its text. */
export function partitionOfBytes(o: Pick<MapOutputOptions, 'partition' | 'partitionBytes'>, buf: Uint8Array, start: number, end: number): number {
  return o.partitionBytes ? o.partitionBytes(buf, start, end) : o.partition(keyText(buf, start, end));
}
