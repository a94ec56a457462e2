import { defineJob } from 'torpedo';

// The obvious way: a regex split per line, emit(word, 1), sum in combine and reduce.
export default defineJob<number, number>({
  map(line, emit, ctx) {
    for (const w of line.toLowerCase().split(/[^\p{L}\p{Nd}_']+/u)) {
      if (w) {
        emit(w, 1);
        ctx.count('words');
      }
    }
  },
  combine(word, counts, emit) {
    let s = 0;
    for (const c of counts) s += c;
    emit(word, s);
  },
  reduce(word, counts, emit) {
    let s = 0;
    for (const c of counts) s += c;
    emit(word, s);
  },
});
