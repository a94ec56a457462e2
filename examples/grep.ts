import { defineJob, identity } from 'torpedo';
import { EXAMPLE_PARAMS } from './names.ts';

/**
 * Distributed grep: `--param pattern=REGEX` (JavaScript syntax, `--param flags=i` for flags).
 * Each matching line is written as `file:offset<TAB>line`; the reduce is the identity.
 */
const compiled = new Map<string, RegExp>();

function patternOf(params: Readonly<Record<string, string>>): RegExp {
  const source = params['pattern'];
  if (source === undefined || source === '') throw new Error('grep needs --param pattern=REGEX');
  const flags = (params['flags'] ?? '').replace(/[gy]/g, '');
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (re === undefined) {
    re = new RegExp(source, flags);
    compiled.set(key, re);
  }
  return re;
}

export default defineJob<string, string>({
  params: EXAMPLE_PARAMS.grep,
  setup(ctx) {
    patternOf(ctx.params); // a bad pattern (a SyntaxError) fails the job here, before any map runs, and is not retried
    return null;
  },
  map(line, emit, ctx) {
    if (patternOf(ctx.params).test(line)) emit(`${ctx.file}:${ctx.offset}`, line);
  },
  reduce: identity,
});
