// The baseline of the jsonl case: one thread, readline and JSON.parse, as one would write it.
// usage: node node-jsonl-sum.mjs INPUT OUTPUT (writes user<TAB>sum lines)
import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [input, output] = process.argv.slice(2);
const sums = new Map();
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  if (line === '') continue;
  const r = JSON.parse(line);
  sums.set(r.user, (sums.get(r.user) ?? 0) + r.amount);
}
writeFileSync(output, [...sums].map(([k, v]) => `${k}\t${v}\n`).join(''));
