import { parseArgs } from 'node:util';
import { parseSize } from './parse-size.ts';

export interface GeneratorArgs {
  readonly bytes: number;
  readonly out: string;
  readonly seed: number;
}

/** The shared CLI of gen-text.ts and gen-records.ts: `--bytes N --out FILE --seed S`. */
export function parseGeneratorArgs(argv: readonly string[], usage: string): GeneratorArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      bytes: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '42' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.bytes === undefined || values.out === undefined) {
    process.stderr.write(`${usage}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a non-negative integer, got ${values.seed}`, usage);
  try {
    return { bytes: parseSize(values.bytes), out: values.out, seed };
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err), usage);
  }
}

function fail(message: string, usage: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}
