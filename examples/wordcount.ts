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

// FOLD[b]: 0 for a separator byte, else the byte lower-cased (ASCII) or as is (bytes ≥ 0x80).
const FOLD = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (c >= 0x80) FOLD[c] = c;
  else if (c >= 0x41 && c <= 0x5a) FOLD[c] = c | 0x20;
  else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x27) FOLD[c] = c;
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
      if (FOLD[buf[i] as number] === 0) {
        i++;
        continue;
      }
      const wordStart = i;
      let n = 0;
      let high = 0;
      let h = 0x811c9dc5 | 0; // FNV-1a of the lower-cased word, handed to emit
      for (; i < end; i++) {
        const c = FOLD[buf[i] as number] as number;
        if (c === 0) break;
        high |= c;
        out[n++] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      if (high & 0x80) emitUnicodeWords(buf, wordStart, i, emit);
      else emit(out, 0, n, 1, h);
    }
  },

  combine: sum,
  reduce: sum,
});
