// A setup that refuses its configuration with a TypeError: no retry can fix it.
export default {
  setup(ctx) {
    throw new TypeError(`config: mode must be "fast" or "slow", got ${JSON.stringify(ctx.params['mode'] ?? null)}`);
  },
  map(line, emit) {
    emit(line, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
