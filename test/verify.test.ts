import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonSummary, prose, removeDir, runCli, tempDir, type CliResult } from './helpers.ts';

/**
 * `torpedo verify` against the manifest a real job's commit wrote in `_SUCCESS`: a whole output
 * passes, and each kind of damage to a copy of it is reported with its verdict and exit status.
 */

let dir: string;
let output: string;
let copies = 0;

before(async () => {
  dir = tempDir('torpedo-verify-');
  const input = join(dir, 'input');
  mkdirSync(input);
  writeFileSync(join(input, 'a.txt'), prose(2000));
  writeFileSync(join(input, 'b.txt'), prose(300));
  output = join(dir, 'out');
  const r = await runCli(['run', 'wordcount', '--input', input, '--output', output, '--reducers', '3', '--split-size', '16KB', '--workers', '2', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
});
after(() => removeDir(dir));

/** A fresh copy of the job's output, to damage. */
function copyOfOutput(): string {
  const copy = join(dir, `copy-${copies++}`);
  cpSync(output, copy, { recursive: true });
  return copy;
}

function verify(out: string, ...flags: string[]): Promise<CliResult> {
  return runCli(['verify', out, ...flags]);
}

describe('torpedo verify', () => {
  it('passes a job output as its commit left it: one ok line per part and a summary, exit 0', async () => {
    const r = await verify(output);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    for (const [i, line] of lines.slice(0, 3).entries()) assert.match(line, new RegExp(`^ok +part-r-0000${i}  \\d+ bytes  crc32 [0-9a-f]{8}$`));
    assert.equal(lines[3], `${output}: all 3 parts ok`);
    const json = jsonSummary(await verify(output, '--json'));
    assert.equal(json['ok'], true);
    assert.deepEqual(json['parts'].map((p: { verdict: string }) => p.verdict), ['ok', 'ok', 'ok']);
  });

  it('reports a flipped byte as WRONG CRC, exit 1', async () => {
    const out = copyOfOutput();
    const part = join(out, 'part-r-00001');
    const bytes = readFileSync(part);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    writeFileSync(part, bytes);
    const r = await verify(out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^ok +part-r-00000 /m);
    assert.match(r.stdout, /^WRONG CRC +part-r-00001 {2}crc32 [0-9a-f]{8}, the manifest says [0-9a-f]{8}$/m);
    assert.match(r.stdout, /verification failed \(3 listed parts\): 1 WRONG CRC$/m);
  });

  it('reports a truncated part as WRONG SIZE, exit 1', async () => {
    const out = copyOfOutput();
    truncateSync(join(out, 'part-r-00002'), 10);
    const r = await verify(out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^WRONG SIZE +part-r-00002 {2}10 bytes, the manifest says \d+$/m);
  });

  it('reports a deleted part as MISSING and a stray one as UNLISTED, exit 1; --json says the same', async () => {
    const out = copyOfOutput();
    rmSync(join(out, 'part-r-00000'));
    writeFileSync(join(out, 'part-r-00003'), 'not from the job\n');
    const r = await verify(out);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^MISSING +part-r-00000 {2}not there; the manifest lists \d+ bytes$/m);
    assert.match(r.stdout, /^UNLISTED +part-r-00003 {2}not in the manifest$/m);
    assert.match(r.stdout, /: 1 MISSING, 1 UNLISTED$/m);
    const j = await verify(out, '--json');
    assert.equal(j.code, 1);
    const json = jsonSummary(j);
    assert.equal(json['ok'], false);
    assert.deepEqual(json['parts'].map((p: { name: string; verdict: string }) => `${p.name} ${p.verdict}`), ['part-r-00000 missing', 'part-r-00001 ok', 'part-r-00002 ok', 'part-r-00003 unlisted']);
  });

  it('refuses with exit 2 and a clear error: a corrupt _SUCCESS, an empty one (older version), none', async () => {
    const corrupt = copyOfOutput();
    writeFileSync(join(corrupt, '_SUCCESS'), readFileSync(join(corrupt, '_SUCCESS'), 'utf8').slice(0, 40));
    let r = await verify(corrupt);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^torpedo: error TORPEDO_ERR_CORRUPT_DATA: .*_SUCCESS is not a JSON manifest/m);
    assert.equal(r.stdout, '');

    writeFileSync(join(corrupt, '_SUCCESS'), '{"format":"torpedo-manifest-1","algorithm":"crc32","parts":[{"name":"part-r-00000","bytes":"12","crc32":"00000000"}]}');
    r = await verify(corrupt, '--json');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /TORPEDO_ERR_CORRUPT_DATA: .*at parts\.0\.bytes/);
    assert.equal(jsonSummary(r)['error']['code'], 'TORPEDO_ERR_CORRUPT_DATA');

    writeFileSync(join(corrupt, '_SUCCESS'), '');
    r = await verify(corrupt);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /TORPEDO_ERR_NO_MANIFEST: .*_SUCCESS is empty: this output was written by a torpedo version before checksum manifests/);

    rmSync(join(corrupt, '_SUCCESS'));
    r = await verify(corrupt);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /TORPEDO_ERR_NO_MANIFEST: .* has no _SUCCESS: it is not the output of a job that succeeded/);
  });
});
