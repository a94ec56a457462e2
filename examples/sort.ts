import { compareKeys, defineJob, identity } from 'torpedo';
import { EXAMPLE_PARAMS } from './names.ts';

/**
 * Total-order sort of lines (TeraSort): `setup` samples the input and picks R-1 cut points, the
 * partitioner sends each line to the range it falls in, and each reducer's part is sorted, so the
 * part files concatenated in order equal `LC_ALL=C sort` of the input.
 */
const SAMPLES = 20_000;

interface Cuts {
  readonly cuts: readonly string[];
}

export default defineJob<null, null>({
  params: EXAMPLE_PARAMS.sort,
  async setup(ctx): Promise<Cuts> {
    const sample = (await ctx.sample(SAMPLES)).sort(compareKeys);
    const cuts: string[] = [];
    for (let r = 1; r < ctx.reducers; r++) {
      const cut = sample[Math.floor((r * sample.length) / ctx.reducers)];
      if (cut !== undefined) cuts.push(cut);
    }
    return { cuts };
  },
  partition(key, reducers, ctx) {
    const { cuts } = ctx.setup as Cuts;
    // The number of cut points ≤ key: keys equal to a cut go to the upper range.
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(cuts[mid] as string, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, reducers - 1);
  },
  map(line, emit) {
    emit(line, null);
  },
  // The same as map, without a string per line: each line's bytes are the key.
  mapBytes(buf, start, end, emit) {
    let i = start;
    while (i < end) {
      let nl = buf.indexOf(10, i);
      if (nl === -1 || nl >= end) nl = end;
      const lineEnd = nl > i && buf[nl - 1] === 13 ? nl - 1 : nl;
      emit(buf, i, lineEnd, null);
      i = nl + 1;
    }
  },
  reduce: identity,
});
