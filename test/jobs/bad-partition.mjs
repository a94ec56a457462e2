export default {
  map(line, emit) {
    emit(line, 1);
  },
  partition() {
    return 7;
  },
  reduce(key, values, emit) {
    emit(key, 1);
  },
};
