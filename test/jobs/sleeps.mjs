// Sleeps (asynchronously: heartbeats go on) on the record that contains SLEEP, on every attempt.
export default {
  async map(line, emit) {
    if (line.includes('SLEEP')) await new Promise((resolve) => setTimeout(resolve, 60_000));
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
