// Word count written "the obvious way", as a new user would write it from the README: per-line
// map, split on a Unicode regex, emit (word, 1), a summing combiner and reducer. The bench runs
// it next to the built-in word count to show what the engine costs a user who does not tune.
// Plain .mjs with no imports on purpose: it must load as a user's file would.
export default {
  map(line, emit) {
    for (const w of line.toLowerCase().split(/[^\p{L}\p{Nd}_']+/u)) if (w) emit(w, 1);
  },
  combine(key, values, emit) {
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
  },
  reduce(key, values, emit) {
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
  },
};
