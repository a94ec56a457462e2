import { defineJob } from 'torpedo';

export default defineJob<number, number>({
  map(line, emit) {
    emit(line, 'not a number');
  },
  reduce(key, values, emit) {
    emit(key, 1);
  },
});
