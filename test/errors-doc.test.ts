import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ERRORS } from '../src/errors.ts';
import { ROOT } from './helpers.ts';

it('docs/errors.md lists exactly the codes of the registry, with their status and meaning', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `(TORPEDO_ERR_\w+)` \| (\d+) \| (.*) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
  assert.deepEqual(rows, Object.entries(ERRORS).map(([code, e]) => [code, e.status, e.summary]));
});
