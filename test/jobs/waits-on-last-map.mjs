// Word count whose map of the record "WAIT" sleeps 3 s (ctx.params.waitMs), so that a test can
// change committed map outputs after they are written and before any reduce reads them.
export default {
  async map(line, emit, ctx) {
    if (line === 'WAIT') await new Promise((resolve) => setTimeout(resolve, Number(ctx.params.waitMs ?? 3000)));
    for (const w of line.split(' ')) if (w) emit(w, 1);
  },
  combine(word, counts, emit) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
  reduce(word, counts, emit) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
};
