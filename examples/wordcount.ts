import { defineJob, sum, type EmitBytes } from 'torpedo';

/**
 * Word count, the original system's job: words are maximal runs of Unicode letters, decimal
 * digits, `_` and `'`, lower-cased; counted with the `sum` combiner.
 *
 * `map` is the definition; `mapBytes` is the same function over raw bytes (no string per word),
 * which the engine uses. ASCII words are lower-cased and counted straight from the buffer; a run
 * of word bytes that contains non-ASCII bytes is decoded and split with the same regex as `map`.
 */
const WORD = /[\p{L}\p{Nd}_']+/gu;

const SEPARATOR = 0;
const WORD_BYTE = 1;
const UPPER = 2;
const HIGH = 3;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c >= 0x80) CLASS[c] = HIGH;
  else if (c >= 0x41 && c <= 0x5a) CLASS[c] = UPPER;
  else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x27) CLASS[c] = WORD_BYTE;
  else CLASS[c] = SEPARATOR;
}

let scratch = new Uint8Array(1 << 16);

function emitUnicodeWords(buf: Uint8Array, start: number, end: number, emit: EmitBytes<number>): void {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
  for (const word of text.match(WORD) ?? []) {
    const bytes = Buffer.from(word.toLowerCase());
    emit(bytes, 0, bytes.length, 1);
  }
}

export default defineJob<number, number>({
  map(line, emit) {
    for (const word of line.match(WORD) ?? []) emit(word.toLowerCase(), 1);
  },

  mapBytes(buf, start, end, emit) {
    if (scratch.length < end - start) scratch = new Uint8Array(end - start);
    const out = scratch;
    let i = start;
    while (i < end) {
      if (CLASS[buf[i] as number] === SEPARATOR) {
        i++;
        continue;
      }
      const wordStart = i;
      let n = 0;
      let high = false;
      let h = 0x811c9dc5 | 0; // FNV-1a of the lower-cased word, handed to emit
      while (i < end) {
        let c = buf[i] as number;
        const cls = CLASS[c];
        if (cls === SEPARATOR) break;
        if (cls === UPPER) c |= 0x20;
        else if (cls === HIGH) high = true;
        out[n++] = c;
        h = Math.imul(h ^ c, 0x01000193);
        i++;
      }
      if (high) emitUnicodeWords(buf, wordStart, i, emit);
      else emit(out, 0, n, 1, h);
    }
  },

  combine: sum,
  reduce: sum,
});
