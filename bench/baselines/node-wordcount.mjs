// The straightforward single-threaded Node word count: what a competent developer writes in
// ten minutes without an engine. Words are maximal runs of Unicode letters, decimal digits,
// '_' and "'", lower-cased (the same rule as torpedo's word count, so its output is the
// bench's correctness oracle).
//
// usage: node bench/baselines/node-wordcount.mjs INPUT OUTPUT   (OUTPUT: word<TAB>count lines)
import { createReadStream, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node-wordcount.mjs INPUT OUTPUT');
  process.exit(2);
}

const WORD = /[\p{L}\p{Nd}_']+/gu;
const counts = new Map();
let carry = '';

// Chunks, not readline: same result, and readline's per-line events would measure readline.
// The stream's utf8 decoder keeps multi-byte characters split across chunks intact.
for await (const chunk of createReadStream(input, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const text = carry + chunk;
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline < 0) {
    carry = text;
    continue;
  }
  carry = text.slice(lastNewline + 1);
  countWords(text.slice(0, lastNewline));
}
countWords(carry);

function countWords(text) {
  for (const [word] of text.toLowerCase().matchAll(WORD)) counts.set(word, (counts.get(word) ?? 0) + 1);
}

let out = '';
for (const [word, count] of counts) out += `${word}\t${count}\n`;
writeFileSync(output, out);
