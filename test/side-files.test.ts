// Side files for JavaScript and TypeScript jobs (Hadoop's distributed cache): --file PATH, read at
// ctx.files[name] inside the sandbox; JSON imported from the job's own folder is bundled; any
// other path fails with an error that names it and says how to pass it.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readParts, removeDir, runCli, tempDir } from './helpers.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

const JOB = `import { readFileSync } from 'node:fs';
import weights from './weights.json' with { type: 'json' };
let stop;
export default {
  map(line, emit, ctx) {
    stop ??= new Set(readFileSync(ctx.files['stop.txt'], 'utf8').split('\\n').filter(Boolean));
    for (const w of line.split(' ')) if (w && !stop.has(w)) emit(w, weights[w] ?? 1);
  },
  reduce(key, values, emit) {
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
  },
};
`;
const TS_JOB = `import { readFileSync } from 'node:fs';
import { defineJob } from 'torpedo';
export default defineJob<number, number>({
  map(line, emit, ctx) {
    const prefix: string = readFileSync(ctx.files['prefix.txt'] ?? '', 'utf8').trim();
    emit(prefix + line, 1);
  },
  reduce(key, values, emit) {
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
  },
});
`;
const OUTSIDE = `import { readFileSync } from 'node:fs';
export default { map(line, emit) { emit(readFileSync('/etc/hostname', 'utf8'), 1); }, reduce(key, values, emit) { emit(key, 1); } };
`;

let dir: string;
before(() => {
  dir = tempDir('torpedo-side-files-');
  mkdirSync(join(dir, 'job'));
  writeFileSync(join(dir, 'job', 'job.mjs'), JOB);
  writeFileSync(join(dir, 'job', 'weights.json'), '{"river": 10}');
  writeFileSync(join(dir, 'job', 'job.ts'), TS_JOB);
  writeFileSync(join(dir, 'job', 'outside.mjs'), OUTSIDE);
  writeFileSync(join(dir, 'stop.txt'), 'the\na\n');
  writeFileSync(join(dir, 'prefix.txt'), 'p:\n');
  writeFileSync(join(dir, 'input.txt'), 'the river a boat\nthe boat\n');
});
after(() => removeDir(dir));

test('a JavaScript job reads --file at ctx.files[name], and JSON it imports from its folder', async () => {
  const out = join(dir, 'out-js');
  const r = await runCli(['run', join(dir, 'job', 'job.mjs'), '--file', join(dir, 'stop.txt'), '--input', join(dir, 'input.txt'), '--output', out, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(out), ['boat\t2\nriver\t10\n']);
});

test('a TypeScript job: ctx.files is typed, and read in the sandbox', async () => {
  const out = join(dir, 'out-ts');
  const r = await runCli(['run', join(dir, 'job', 'job.ts'), '--file', join(dir, 'prefix.txt'), '--input', join(dir, 'input.txt'), '--output', out, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readParts(out), ['p:the boat\t1\np:the river a boat\t1\n']);
});

test('reading a path that is not a side file fails, naming the path and how to pass it', async () => {
  const r = await runCli(['run', join(dir, 'job', 'outside.mjs'), '--input', join(dir, 'input.txt'), '--output', join(dir, 'out-outside'), '--no-progress', '--max-attempts', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /"\/etc\/hostname", pass it with --file \/etc\/hostname and read ctx\.files\["hostname"\]/);
});

test('two side files with the same name are refused before anything runs', async () => {
  mkdirSync(join(dir, 'other'));
  writeFileSync(join(dir, 'other', 'stop.txt'), 'x\n');
  const r = await runCli(['run', join(dir, 'job', 'job.mjs'), '--file', join(dir, 'stop.txt'), '--file', join(dir, 'other', 'stop.txt'), '--input', join(dir, 'input.txt'), '--output', join(dir, 'out-twice'), '--no-progress']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /two files are named "stop\.txt"/);
});

describe('side files in the manager', () => {
  let m: TestManager;
  let token: string;
  before(async () => {
    m = await startTestManager('pglite');
    token = await m.newUser('sid');
    assert.equal((await m.call('POST', '/datasets?name=input', { token, body: 'the river a boat\nthe boat\n' })).status, 201);
  });
  after(async () => {
    await m?.close();
  });

  test('POST /jobs takes files for a JavaScript job: ctx.files; a rerun keeps them', async () => {
    const code = JOB.replace("import weights from './weights.json' with { type: 'json' };", 'const weights = {};');
    const job = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['input'], files: { 'stop.txt': 'the\na\nboat\n' } } });
    assert.equal(job.status, 201, job.body);
    const done = await m.waitForJob(token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal((await m.call('GET', `/jobs/${job.json.id}/output`, { token })).body, 'river\t1\n');
    const again = await m.call('POST', `/jobs/${job.json.id}/rerun`, { token });
    assert.equal(again.status, 201, again.body);
    assert.equal((await m.waitForJob(token, again.json.id)).status, 'succeeded');
    assert.equal((await m.call('GET', `/jobs/${again.json.id}/output`, { token })).body, 'river\t1\n');
  });
});
