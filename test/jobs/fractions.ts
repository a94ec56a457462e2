import { defineJob, sum } from 'torpedo';

// Fractional, negative and large values through the sum combiner and reducer's fast paths.
export default defineJob<number, number>({
  map(line, emit) {
    emit(`len:${line.length % 7}`, line.length / 4);
    emit('negative', -line.length);
    emit('big', 2 ** 40 + line.length);
  },
  combine: sum,
  reduce: sum,
});
