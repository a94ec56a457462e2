// Sums the `amount` field of JSON lines by `user`: what a user writes for a jsonl input, where
// torpedo parses each line and gives map the value. The bench compares it with
// baselines/node-jsonl-sum.mjs (readline + JSON.parse in one thread).
export default {
  map(record, emit) {
    emit(record.user, record.amount);
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
