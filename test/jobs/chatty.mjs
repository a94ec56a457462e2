// Writes to stdout and stderr from map and reduce: it must not disturb anything.
export default {
  map(line, emit) {
    console.log(`map saw ${line}`);
    process.stdout.write('\x00 raw bytes\n');
    console.error('and a warning');
    emit(line, line.length);
  },
  reduce(key, values, emit) {
    console.log(`reduce ${key}`);
    for (const v of values) emit(key, v);
  },
};
