import { defineJob } from 'torpedo';

export default defineJob({
  map(line, emit) {
    emit(line, 1;
  },
  reduce(key, values, emit) {
    emit(key, 1);
  },
});
