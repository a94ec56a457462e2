// What a streaming command finds in its environment: Hadoop Streaming's job variables, and a PATH
// on which `python3` — and `python`, even where the system has only python3 — are found.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readParts, removeDir, runCli, tempDir } from './helpers.ts';

let dir: string;
before(() => {
  dir = tempDir('torpedo-streaming-env-');
  writeFileSync(join(dir, 'a.txt'), 'one\ntwo\n');
  writeFileSync(join(dir, 'b.txt'), 'three\n');
});
after(() => removeDir(dir));

/** Runs a streaming job whose commands print `role<TAB>NAME=value` for every variable asked for. */
async function environments(mapper: string, reducer: string): Promise<string[]> {
  const out = join(dir, 'out');
  const r = await runCli(['run', '--mapper', mapper, '--reducer', reducer, '--input', dir + '/a.txt', '--input', dir + '/b.txt', '--output', out, '--reducers', '2', '--force', '--no-progress'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return readParts(out).join('').trim().split('\n').sort();
}

const VARS = 'mapreduce_map_input_file map_input_file mapreduce_map_input_start map_input_length mapreduce_task_id mapreduce_task_attempt_id mapreduce_task_partition mapreduce_task_ismap mapred_task_id mapreduce_job_id';

test('map and reduce commands get the task, the attempt and (maps) the input file, under Hadoop names old and new', async () => {
  const print = (role: string): string => `cat > /dev/null; for v in ${VARS}; do eval "echo \\"${role} $v=\\\${$v-unset}\\""; done`;
  const lines = await environments(print('map'), `cat; ${print('reduce')}`);
  const maps = lines.filter((l) => l.startsWith('map ')).map((l) => l.slice(4).replace(/\t$/, ''));
  const reduces = lines.filter((l) => l.startsWith('reduce ')).map((l) => l.slice(7).replace(/\t$/, ''));
  // Two small input files, packed into one split (docs/data-formats.md): one map run, which names
  // the split's first file, as Hadoop's CombineFileInputFormat does; its length is both files'.
  assert.deepEqual(maps.filter((l) => l.startsWith('mapreduce_map_input_file=')), [`mapreduce_map_input_file=${dir}/a.txt`]);
  assert.deepEqual(maps.filter((l) => l.startsWith('map_input_file=')), [`map_input_file=${dir}/a.txt`]);
  assert.deepEqual(maps.filter((l) => l.startsWith('mapreduce_map_input_start=')), ['mapreduce_map_input_start=0']);
  assert.deepEqual(maps.filter((l) => l.startsWith('map_input_length=')), ['map_input_length=14']);
  assert.deepEqual(maps.filter((l) => l.startsWith('mapreduce_task_id=')), ['mapreduce_task_id=map-00000']);
  assert.deepEqual(maps.filter((l) => l.startsWith('mapreduce_task_attempt_id=')), ['mapreduce_task_attempt_id=map-00000-a0']);
  assert.deepEqual(maps.filter((l) => l.startsWith('mapred_task_id=')), ['mapred_task_id=map-00000-a0']);
  assert.deepEqual(maps.filter((l) => l.startsWith('mapreduce_task_ismap=')), ['mapreduce_task_ismap=true']);
  assert.equal(new Set(maps.filter((l) => l.startsWith('mapreduce_job_id='))).size, 1);
  assert.doesNotMatch(maps.find((l) => l.startsWith('mapreduce_job_id=')) ?? '', /=unset$/);
  assert.deepEqual(reduces.filter((l) => l.startsWith('mapreduce_task_attempt_id=')).sort(), ['mapreduce_task_attempt_id=reduce-00000-a0', 'mapreduce_task_attempt_id=reduce-00001-a0']);
  assert.deepEqual(reduces.filter((l) => l.startsWith('mapreduce_task_partition=')).sort(), ['mapreduce_task_partition=0', 'mapreduce_task_partition=1']);
  assert.deepEqual(reduces.filter((l) => l.startsWith('mapreduce_map_input_file=')), ['mapreduce_map_input_file=unset', 'mapreduce_map_input_file=unset']);
  assert.deepEqual(reduces.filter((l) => l.startsWith('mapreduce_task_ismap=')), ['mapreduce_task_ismap=false', 'mapreduce_task_ismap=false']);
});

test('`python3` and `python` are found on PATH (python as python3 where the system has no python)', { skip: !existsSync('/usr/bin/python3') && 'no python3 here' }, async () => {
  const lines = await environments(`cat > /dev/null; python -c 'import sys; print("python\\t%d" % sys.version_info[0])'; python3 -c 'print("python3\\tok")'`, 'cat');
  assert.deepEqual(lines, ['python\t3', 'python3\tok']);
});
