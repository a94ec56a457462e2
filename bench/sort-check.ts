import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { partFiles } from './word-counts.ts';

/**
 * "ok" when `output` (a file, or a directory whose part-r-* files are concatenated in
 * partition order) is byte-identical to `reference`. Streams through cmp, because the
 * outputs are as large as the input.
 */
export function compareSorted(output: string, reference: string): string {
  const files = statSync(output).isDirectory() ? partFiles(output) : [output];
  if (files.length === 0) return 'MISMATCH: no part-r-* files';
  const result = spawnSync('bash', ['-c', 'ref=$1; shift; cat -- "$@" | cmp -s - "$ref"', 'compare-sorted', reference, ...files], {
    stdio: 'ignore',
  });
  if (result.status === 0) return 'ok';
  if (result.status === 1) return 'MISMATCH: output differs from LC_ALL=C sort';
  return `MISMATCH: could not compare (cmp exit ${result.status ?? result.signal})`;
}
