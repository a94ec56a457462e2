// Emits every record under its file and byte offset: ctx.file and ctx.offset as map sees them.
export default {
  map(line, emit, ctx) {
    emit(`${ctx.file}:${String(ctx.offset).padStart(8, '0')}`, line);
  },
  reduce(key, values, emit) {
    for (const v of values) emit(key, v);
  },
};
