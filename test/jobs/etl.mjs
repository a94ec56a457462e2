// An ETL job with named outputs: records with a numeric amount go on to the reduce and are
// summed by user; the rest are written to the named output "rejected", and every sum of 100 or
// more also to "big". With --reducers 0, map writes "good" and "rejected" itself.
export default {
  map(line, emit, ctx) {
    const [user, amount] = line.split(',');
    if (user === undefined || amount === undefined || !/^\d+$/.test(amount)) {
      if (ctx.reducers === 0) emit.to('rejected', `${ctx.file}:${ctx.offset}`, line);
      else emit(`~rejected:${ctx.file}:${ctx.offset}`, line);
      return;
    }
    if (ctx.reducers === 0) emit.to('good', user, Number(amount));
    else emit(user, Number(amount));
  },
  reduce(key, values, emit) {
    if (key.startsWith('~rejected:')) {
      for (const v of values) emit.to('rejected', key.slice('~rejected:'.length), v);
      return;
    }
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
    if (s >= 100) emit.to('big', key, s);
  },
};
