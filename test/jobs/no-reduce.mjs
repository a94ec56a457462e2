export default {
  map(line, emit) {
    emit(line, 1);
  },
};
