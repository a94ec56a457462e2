/** CLI: node --import tsx bench/gen-text.ts --bytes 1GB --out FILE [--seed 42] */
import { parseGeneratorArgs } from './generator-args.ts';
import { generateText } from './text-generator.ts';

const args = parseGeneratorArgs(process.argv.slice(2), 'usage: gen-text.ts --bytes N --out FILE [--seed S]');
generateText(args);
