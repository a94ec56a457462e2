/** CLI: node --import tsx bench/gen-records.ts --bytes 1GB --out FILE [--seed 42] */
import { parseGeneratorArgs } from './generator-args.ts';
import { generateRecords, RECORD_BYTES } from './record-generator.ts';

const args = parseGeneratorArgs(process.argv.slice(2), 'usage: gen-records.ts --bytes N (rounded down to 100-byte records) --out FILE [--seed S]');
if (args.bytes % RECORD_BYTES !== 0) {
  process.stderr.write(`gen-records: writing ${Math.floor(args.bytes / RECORD_BYTES) * RECORD_BYTES} bytes (whole ${RECORD_BYTES}-byte records)\n`);
}
generateRecords(args);
