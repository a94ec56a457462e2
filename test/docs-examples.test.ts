// The docs' examples and claims, checked against what the code does: names in rest-api.md's job
// JSON, what README says `--maps M` gives, the helpers job-api.md documents, and what becomes of
// user code's stdout (architecture.md).
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as api from '../src/api/index.ts';
import { AttemptStateSchema, TaskStateSchema } from '../src/protocol/master-status.ts';
import { ATTEMPT_ID } from '../src/protocol/task-names.ts';
import { jsonSummary, readParts, removeDir, ROOT, runCli, tempDir } from './helpers.ts';

const doc = (name: string): string => readFileSync(join(ROOT, name), 'utf8');
let dir: string;
let out: string;
before(() => {
  dir = tempDir('torpedo-docs-');
  out = tempDir('torpedo-docs-out-');
  writeFileSync(join(dir, 'a.txt'), 'one two\n'.repeat(100));
  writeFileSync(join(dir, 'b.txt'), 'three\n'.repeat(50));
  // The job's sandbox runs as a uid of its own: it must be able to read the inputs.
  chmodSync(dir, 0o755);
});
after(() => {
  removeDir(dir);
  removeDir(out);
});

async function run(args: readonly string[]): Promise<Record<string, any>> {
  const r = await runCli(['run', ...args, '--force', '--no-progress', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return jsonSummary(r);
}

test("rest-api.md's job example uses the task and attempt states, attempt ids, worker ids and counter names there are", async () => {
  const block = /The full job adds:\n\n```json\n([\s\S]*?)\n```/.exec(doc('docs/rest-api.md'))?.[1];
  assert.ok(block !== undefined, 'no job example in rest-api.md');
  const job = JSON.parse(block) as { tasks: { state: string; attempts: { id: string; worker: string; state: string }[] }[]; counters: Record<string, number> };
  const real = await run(['wordcount', '--input', dir, '--output', join(out, 'wc'), '--reducers', '2']);
  // Worker ids as a real run names them (a worker that started too late to register is not listed,
  // so the example's ids are checked against their shape, which every real one has).
  const WORKER_ID = /^w\d+$/;
  const workers = real['workers'] as { id: string }[];
  assert.ok(workers.length > 0 && workers.every((w) => WORKER_ID.test(w.id)), JSON.stringify(workers));
  for (const t of job.tasks) {
    assert.ok((TaskStateSchema.options as readonly string[]).includes(t.state), `no task state ${t.state}`);
    for (const a of t.attempts) {
      assert.match(a.id, ATTEMPT_ID);
      assert.ok((AttemptStateSchema.options as readonly string[]).includes(a.state), `no attempt state ${a.state}`);
      assert.match(a.worker, WORKER_ID, `no worker id like ${a.worker}`);
    }
  }
  for (const name of Object.keys(job.counters)) assert.ok(name in real['counters'], `no counter ${JSON.stringify(name)} in a real run: ${Object.keys(real['counters']).join(', ')}`);
});

test('README: --maps M gives M map tasks for one file, and up to M + files − 1 for several', async () => {
  assert.match(doc('README.md'), /`--maps M` \| .*M map tasks for one file, up to M \+ files − 1 for several/);
  const one = await run(['wordcount', '--input', join(dir, 'a.txt'), '--output', join(out, 'm1'), '--maps', '4']);
  assert.equal(one['phases'].map.tasks, 4);
  const two = await run(['wordcount', '--input', dir, '--output', join(out, 'm2'), '--maps', '4']);
  assert.ok(two['phases'].map.tasks > 4 && two['phases'].map.tasks <= 4 + 2 - 1, `${two['phases'].map.tasks} map tasks`);
});

test("job-api.md documents every function 'torpedo' exports, and ctx.sample(n)", () => {
  const text = doc('docs/job-api.md');
  for (const name of Object.keys(api)) assert.match(text, new RegExp(`\`${name}[(\`]`), `job-api.md does not document ${name}`);
  assert.match(text, /`sample\(n\)`/);
  assert.match(text, /ctx\.sample\(/);
});

test("architecture.md: user code's stdout and stderr never reach the output", async () => {
  assert.match(doc('docs/architecture.md'), /User code's output never reaches the job's output/);
  const job = join(out, 'noisy.ts');
  writeFileSync(
    job,
    "import { defineJob, sum } from 'torpedo';\nexport default defineJob<number>({\n  map(line, emit) {\n    console.log('stdout-noise');\n    process.stdout.write('more\\tnoise\\n');\n    console.error('stderr-noise');\n    emit(line, 1);\n  },\n  reduce: sum,\n});\n",
  );
  await run([job, '--input', join(dir, 'b.txt'), '--output', join(out, 'noisy')]);
  assert.deepEqual(readParts(join(out, 'noisy')), ['three\t50\n']);
});
