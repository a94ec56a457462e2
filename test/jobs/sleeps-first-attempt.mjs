// Sleeps on the first attempt of the task holding the SLEEP record only: a retry gets through.
export default {
  async map(line, emit, ctx) {
    if (line.includes('SLEEP') && ctx.attempt === 0) await new Promise((resolve) => setTimeout(resolve, 60_000));
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
