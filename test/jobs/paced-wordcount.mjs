// Word count that takes its time (20 ms every 100 lines), so that a chaos test can kill workers mid-job.
let lines = 0;
export default {
  async map(line, emit) {
    if (++lines % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const w of line.toLowerCase().split(/[^\p{L}\p{Nd}_']+/u)) if (w) emit(w, 1);
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
