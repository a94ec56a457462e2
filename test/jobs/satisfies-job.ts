import type { Job } from 'torpedo';

// `satisfies Job<V, O>` type-checks a plain object like defineJob does.
export default {
  map(line, emit, ctx) {
    emit(ctx.file, line.length);
  },
  reduce(file, lengths, emit) {
    let longest = 0;
    for (const n of lengths) longest = Math.max(longest, n);
    emit(file, longest);
  },
} satisfies Job<number, number>;
