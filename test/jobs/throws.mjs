// Throws on the one line that contains POISON.
export default {
  map(line, emit) {
    if (line.includes('POISON')) throw new Error(`poisoned record: ${line}`);
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
