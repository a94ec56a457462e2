// Writes a line to stdout per record, a little apart, so that a follower of its log sees it grow.
export default {
  async map(line, emit) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    console.log(`tick ${line}`);
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
