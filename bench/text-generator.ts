import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { Prng } from './prng.ts';
import { buildVocabulary } from './vocabulary.ts';
import { ZipfSampler } from './zipf-sampler.ts';

export interface TextGeneratorOptions {
  /** Exact size of the file to write, in bytes. */
  readonly bytes: number;
  readonly out: string;
  readonly seed: number;
  /** Called after each flushed chunk with the bytes written so far. */
  readonly onProgress?: (bytesWritten: number) => void;
}

const VOCABULARY_SIZE = 100_000;
const ZIPF_EXPONENT = 1;
const CHUNK_BYTES = 16 << 20;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const COMMA = 0x2c;
const PERIOD = 0x2e;
const HYPHEN = 0x2d;
/** Sentence-ending or clause marks other than the comma and period: ? ! ; : */
const RARE_MARKS = [0x3f, 0x21, 0x3b, 0x3a] as const;

/**
 * Writes `bytes` bytes of English-like text: words drawn from a Zipf (s=1) distribution over a
 * 100k-word vocabulary, lines of 60–100 characters, sentences starting with a capital, commas,
 * periods, a few other marks and hyphens, ~1% of words with non-ASCII letters. The output is a
 * pure function of (bytes, seed), always valid UTF-8 and always ends with a newline.
 *
 * Speed matters (a gigabyte should take seconds), so every word is encoded once up front into
 * one byte pool and copied byte by byte into a large Buffer written synchronously.
 */
export function generateText(options: TextGeneratorOptions): void {
  const { bytes, out, seed, onProgress } = options;
  const words = buildVocabulary(seed, VOCABULARY_SIZE);
  const encoded = words.map((w) => Buffer.from(w, 'utf8'));
  const starts = new Uint32Array(words.length);
  const lengths = new Uint32Array(words.length);
  let poolSize = 0;
  encoded.forEach((b, i) => {
    starts[i] = poolSize;
    lengths[i] = b.length;
    poolSize += b.length;
  });
  const pool = Buffer.concat(encoded, poolSize);

  const sampler = new ZipfSampler(words.length, ZIPF_EXPONENT);
  const prng = new Prng(seed);
  // Room for one more word, separators and the final padding past CHUNK_BYTES.
  const buf = Buffer.allocUnsafe(CHUNK_BYTES + 4096);
  const tmp = `${out}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let flushed = 0;
  let pos = 0;
  let lineLength = 0;
  let lineTarget = 60 + prng.nextInt(41);
  let capitalizeNext = true;

  try {
    for (;;) {
      let remaining = bytes - flushed - pos;
      if (remaining <= 0) break;
      const rank = sampler.sample(prng);
      const start = starts[rank] ?? 0;
      const length = lengths[rank] ?? 0;
      // One random number decides the punctuation (low 10 bits), a stray capital (next 10)
      // and a hyphen join (next 10).
      const dice = prng.nextUint32();
      const punctRoll = dice & 1023;
      const mark = punctRoll < 70 ? COMMA : punctRoll < 130 ? PERIOD : punctRoll < 138 ? (RARE_MARKS[punctRoll & 3] ?? PERIOD) : 0;
      const markLength = mark === 0 ? 0 : 1;

      if (lineLength > 0 && lineLength + 1 + length + markLength > lineTarget) {
        buf[pos++] = NEWLINE;
        remaining--;
        lineLength = 0;
        lineTarget = 60 + prng.nextInt(41);
      }
      const separator = lineLength > 0 ? 1 : 0;
      if (separator + length + markLength + 1 > remaining) {
        // The next word does not fit before the final newline: pad with spaces so the file is
        // exactly `bytes` long without cutting a UTF-8 sequence in half.
        if (remaining > 0) {
          buf.fill(SPACE, pos, pos + remaining - 1);
          pos += remaining - 1;
          buf[pos++] = NEWLINE;
        }
        break;
      }

      if (separator) buf[pos++] = ((dice >>> 20) & 1023) < 5 && !capitalizeNext ? HYPHEN : SPACE;
      const wordStart = pos;
      for (let i = 0; i < length; i++) buf[pos++] = pool[start + i] ?? SPACE;
      const first = buf[wordStart] ?? 0;
      if ((capitalizeNext || ((dice >>> 10) & 1023) < 20) && first >= 0x61 && first <= 0x7a) buf[wordStart] = first - 32;
      capitalizeNext = false;
      if (mark !== 0) {
        buf[pos++] = mark;
        capitalizeNext = mark !== COMMA && mark !== 0x3b && mark !== 0x3a;
      }
      lineLength += separator + length + markLength;

      if (pos >= CHUNK_BYTES) {
        writeSync(fd, buf, 0, pos);
        flushed += pos;
        pos = 0;
        onProgress?.(flushed);
      }
    }
    if (pos > 0) writeSync(fd, buf, 0, pos);
    flushed += pos;
    onProgress?.(flushed);
  } finally {
    closeSync(fd);
  }
  // Renaming last means an interrupted run never leaves a file the cache would reuse.
  renameSync(tmp, out);
}
