// Calls process.exit() on the line that contains EXIT: the worker process dies.
export default {
  map(line, emit) {
    if (line.includes('EXIT')) process.exit(3);
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
