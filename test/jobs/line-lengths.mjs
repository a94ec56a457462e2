// A plain .mjs job, no imports: line length → how many lines, with object values and records' offsets.
export default {
  map(line, emit, ctx) {
    emit(String(line.length).padStart(6, '0'), { at: `${ctx.file}:${ctx.offset}` });
  },
  reduce(length, values, emit) {
    let n = 0;
    let first;
    for (const v of values) {
      n++;
      first ??= v.at;
    }
    emit(length, { lines: n, first });
  },
};
