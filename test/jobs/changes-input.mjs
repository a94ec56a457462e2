// Changes an input file while the job runs, at a moment of the test's choosing: on the first
// record of the file named by the `trigger` param, it truncates (`change=truncate`, to `bytes`)
// or deletes (`change=delete`) the file named by `target`. Run with --no-sandbox, so that map
// may write the inputs; test/input-paths.test.ts uses it for files that shrink or vanish mid-job.
import { truncateSync, unlinkSync } from 'node:fs';
import { basename } from 'node:path';

export default {
  map(line, emit, ctx) {
    const { trigger, target, change, bytes } = ctx.params;
    if (ctx.offset === 0 && basename(ctx.file) === trigger) {
      try {
        if (change === 'truncate') truncateSync(target, Number(bytes ?? 0));
        else if (change === 'delete') unlinkSync(target);
      } catch (e) {
        if (e.code !== 'ENOENT') throw e; // a later attempt finds it changed already
      }
    }
    for (const word of line.split(/\s+/)) if (word !== '') emit(word, 1);
  },
  reduce(key, values, emit) {
    let n = 0;
    for (const v of values) n += v;
    emit(key, n);
  },
};
