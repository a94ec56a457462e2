// Writes 200 KB to stdout from its one map task: more than a small --log-cap keeps.
export default {
  map(line, emit) {
    for (let i = 0; i < 2000; i++) console.log(`${line} ${i} ${'x'.repeat(90)}`);
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
