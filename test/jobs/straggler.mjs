// The first attempt of the task holding the SLOW record sleeps: a straggler that a backup beats.
export default {
  async map(line, emit, ctx) {
    if (line.includes('SLOW') && ctx.attempt === 0) await new Promise((resolve) => setTimeout(resolve, 6000));
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
