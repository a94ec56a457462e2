import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { Prng } from './prng.ts';

export interface RecordGeneratorOptions {
  /** Size of the file in bytes; rounded down to whole 100-byte records. */
  readonly bytes: number;
  readonly out: string;
  readonly seed: number;
  /** Called after each flushed chunk with the bytes written so far. */
  readonly onProgress?: (bytesWritten: number) => void;
}

export const RECORD_BYTES = 100;
export const KEY_BYTES = 10;
/** Keys use '!'..'~': printable ASCII without the space, so no tool can mistake a key for a field separator. */
const KEY_ALPHABET_START = 0x21;
const KEY_ALPHABET_SIZE = 94;
const RECORDS_PER_CHUNK = 1 << 17;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
const FILLER_LETTERS = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'latin1');

/**
 * Writes TeraSort-like records (after gensort -a): a 10-byte random printable key, two spaces,
 * the record number as 32 hex digits, two spaces, 53 filler letters, '\n' — 100 bytes. The
 * record number makes every line unique, so a whole-line sort and a key sort agree.
 */
export function generateRecords(options: RecordGeneratorOptions): void {
  const { out, seed, onProgress } = options;
  const count = Math.floor(options.bytes / RECORD_BYTES);
  const prng = new Prng(seed);
  const buf = Buffer.alloc(RECORDS_PER_CHUNK * RECORD_BYTES);
  const tmp = `${out}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  try {
    for (let first = 0; first < count; first += RECORDS_PER_CHUNK) {
      const n = Math.min(RECORDS_PER_CHUNK, count - first);
      for (let r = 0; r < n; r++) writeRecord(buf, r * RECORD_BYTES, first + r, prng);
      writeSync(fd, buf, 0, n * RECORD_BYTES);
      written += n * RECORD_BYTES;
      onProgress?.(written);
    }
  } finally {
    closeSync(fd);
  }
  // Renaming last means an interrupted run never leaves a file the cache would reuse.
  renameSync(tmp, out);
}

function writeRecord(buf: Buffer, at: number, index: number, prng: Prng): void {
  for (let k = 0; k < KEY_BYTES; k++) buf[at + k] = KEY_ALPHABET_START + prng.nextInt(KEY_ALPHABET_SIZE);
  let p = at + KEY_BYTES;
  buf[p++] = 0x20;
  buf[p++] = 0x20;
  // 32 hex digits of the record number; numbers stay below 2^53, so the top 18 are zeros.
  let rest = index;
  for (let d = 31; d >= 0; d--) {
    buf[p + d] = HEX[rest % 16] ?? 0x30;
    rest = Math.floor(rest / 16);
  }
  p += 32;
  buf[p++] = 0x20;
  buf[p++] = 0x20;
  const letter = FILLER_LETTERS[index % 26] ?? 0x41;
  const fillerEnd = at + RECORD_BYTES - 1;
  while (p < fillerEnd) buf[p++] = letter;
  buf[p] = 0x0a;
}
