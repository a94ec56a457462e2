import { sum, tokenBytes } from 'torpedo';

// Word count through ctx.countTokens, with a nonAscii function that also counts the runs it gets
// in a user counter (which must not be replayed from the engine's run cache). `map` is the same
// job over lines: a run is a maximal run of [A-Za-z0-9_'] and non-ASCII characters.
const RUN = /[A-Za-z0-9_'\u0080-\u{10FFFF}]+/gu;
const WORD = /[\p{L}\p{Nd}_']+/gu;
const WORD_BYTES = tokenBytes("A-Za-z0-9_'", { lowerCase: true, nonAscii: true });

function emitRun(run, emit, ctx) {
  if (!/[\u0080-\u{10FFFF}]/u.test(run)) return emit(run.toLowerCase(), 1);
  ctx.count('non-ascii runs');
  for (const w of run.toLowerCase().match(WORD) ?? []) emit(w, 1);
}

export default {
  map(line, emit, ctx) {
    for (const run of line.match(RUN) ?? []) emitRun(run, emit, ctx);
  },
  mapBytes(buf, start, end, emit, ctx) {
    const emitString = (w) => {
      const b = Buffer.from(w);
      emit(b, 0, b.length, 1);
    };
    ctx.countTokens(buf, start, end, WORD_BYTES, (b, s, e) => emitRun(Buffer.from(b.subarray(s, e)).toString('utf8'), emitString, ctx));
  },
  combine: sum,
  reduce: sum,
};
