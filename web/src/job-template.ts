// The code the submit page's editor starts from: a whole job that runs as it is (word count), so
// that a user edits something that works rather than an empty box. test/web-ui-details.test.ts
// runs it.

export const JOB_TEMPLATE = `import { defineJob, sum } from 'torpedo';

// Word count: map gets each line of the input, emits (word, 1); reduce gets every count of a
// word and emits their sum. Edit it, or choose a file above. See docs/job-api.md.
export default defineJob<number>({
  map(line, emit) {
    // Words: runs of letters, digits, _ and ', in lower case (as the built-in wordcount).
    for (const word of line.match(/[\\p{L}\\p{Nd}_']+/gu) ?? []) emit(word.toLowerCase(), 1);
  },
  combine: sum,
  reduce: sum,
});
`;
