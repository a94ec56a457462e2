// Each map call waits a little, so that a job lasts long enough to look at its processes.
export default {
  async map(line, emit) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
