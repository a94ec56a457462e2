// For the output-format tests: each word's count and a few fields that need CSV quoting (a
// comma, a quote, a newline). With `--param ragged=1` the word "the" gets an extra field, which
// a CSV output refuses.
export default {
  params: { ragged: { help: '1: the word "the" gets an extra field' } },
  map(line, emit) {
    for (const w of line.toLowerCase().split(/[^a-z]+/)) if (w !== '') emit(w, 1);
  },
  reduce(word, counts, emit, ctx) {
    let n = 0;
    for (const c of counts) n += c;
    const stats = { count: n, letters: word.length, note: `${word}, "${word.toUpperCase()}"\nend`, rare: n === 1 };
    emit(word, ctx.params.ragged === '1' && word === 'the' ? { ...stats, extra: true } : stats);
  },
};
