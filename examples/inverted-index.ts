import { compareKeys, defineJob } from 'torpedo';
import { EXAMPLE_PARAMS } from './names.ts';

/** Inverted index: word → the sorted list (JSON array) of input files that contain it. */
const WORD = /[\p{L}\p{Nd}_']+/gu;

export default defineJob<string, string[]>({
  params: EXAMPLE_PARAMS['inverted-index'],
  map(line, emit, ctx) {
    for (const word of line.match(WORD) ?? []) emit(word.toLowerCase(), ctx.file);
  },
  combine(word, files, emit) {
    for (const file of new Set(files)) emit(word, file);
  },
  reduce(word, files, emit) {
    emit(word, [...new Set(files)].sort(compareKeys));
  },
});
