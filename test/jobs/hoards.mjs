// Grows memory without bound on the record that contains HOARD.
const hoard = [];
export default {
  map(line, emit) {
    if (line.includes('HOARD')) for (;;) hoard.push(new Array(1 << 16).fill(line));
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
