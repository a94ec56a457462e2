import { defineJob, sum, tokenBytes, type EmitBytes } from 'torpedo';
import { EXAMPLE_PARAMS } from './names.ts';

/**
 * Word count, the original system's job: words are maximal runs of Unicode letters, decimal
 * digits, `_` and `'`, lower-cased; counted with the `sum` combiner.
 *
 * `map` is the definition; `mapBytes` is the same function over raw bytes, which the engine uses:
 * `ctx.countTokens` splits and counts ASCII words in the engine's WebAssembly kernel, with no
 * JavaScript call per word. A run of word bytes that holds non-ASCII bytes is decoded and split
 * with the same regex as `map`.
 */
const WORD = /[\p{L}\p{Nd}_']+/gu;

/** Word bytes: ASCII letters (lower-cased), digits, `_`, `'`, and every byte of a non-ASCII character. */
const WORD_BYTES = tokenBytes("A-Za-z0-9_'", { lowerCase: true, nonAscii: true });

function emitUnicodeWords(buf: Uint8Array, start: number, end: number, emit: EmitBytes<number>): void {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
  for (const word of text.match(WORD) ?? []) {
    const bytes = Buffer.from(word.toLowerCase());
    emit(bytes, 0, bytes.length, 1);
  }
}

export default defineJob<number, number>({
  params: EXAMPLE_PARAMS.wordcount,
  map(line, emit) {
    for (const word of line.match(WORD) ?? []) emit(word.toLowerCase(), 1);
  },

  mapBytes(buf, start, end, emit, ctx) {
    ctx.countTokens(buf, start, end, WORD_BYTES, (b, runStart, runEnd) => emitUnicodeWords(b, runStart, runEnd, emit));
  },

  combine: sum,
  reduce: sum,
});
