// A job that declares its parameters: `mode` is required, `limit` optional.
export default {
  params: {
    mode: { required: true, help: 'fast or slow' },
    limit: { help: 'at most this many lines' },
  },
  map(line, emit, ctx) {
    emit(`${ctx.params['mode']}:${line}`, null);
  },
  reduce(key, values, emit) {
    emit(key, null);
  },
};
