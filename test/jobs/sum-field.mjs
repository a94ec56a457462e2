// Sums one field of JSON lines or CSV records by another: --param key=FIELD --param value=FIELD
// (column names, or indices for CSV without a header); keys are written as JSON strings, so that
// one with a tab or a newline reads back.
export default {
  params: { key: { required: true, help: 'the field to group by' }, value: { required: true, help: 'the field to sum' } },
  map(record, emit, ctx) {
    emit(JSON.stringify(String(record[ctx.params.key])), Number(record[ctx.params.value]));
  },
  reduce(key, values, emit) {
    let total = 0;
    for (const v of values) total += v;
    emit(key, total);
  },
};
