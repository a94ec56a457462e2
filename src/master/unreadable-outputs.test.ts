import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ErrorReport } from '../protocol/messages.ts';
import { FakeClock } from './clock.ts';
import { layoutForOutput, mapOutputPath } from './job-layout.ts';
import { JobPhases } from './job-phases.ts';
import { JobTasks } from './job-tasks.ts';
import { JobCounters } from './task-counters.ts';
import { mapOutputUnreadable, RERUN_COUNTER, type RerunParts } from './unreadable-outputs.ts';

/** A job of two maps and one reduce, past its map phase, its map outputs committed on disk. */
function job(t: { after: (f: () => void) => void }) {
  const output = mkdtempSync(join(tmpdir(), 'torpedo-rerun-'));
  t.after(() => rmSync(output, { recursive: true, force: true }));
  const layout = layoutForOutput(output);
  mkdirSync(layout.map, { recursive: true });
  const splits = [0, 1].map((i) => ({ file: 'in.txt', start: i * 10, end: i * 10 + 10 }));
  const tasks = new JobTasks(splits, 1, false);
  const phases = new JobPhases(false);
  const clock = new FakeClock();
  const counters = new JobCounters();
  const failures: ErrorReport[] = [];
  const parts: RerunParts = { tasks, phases, layout, counters, clock, fail: (e) => failures.push(e), changed: () => {}, log: () => {} };
  const map = tasks.tables.map;
  for (const m of map.tasks) {
    map.succeed(m, map.assign(m, 'w-1', clock.now()), clock.now());
    writeFileSync(mapOutputPath(layout, m.index), 'committed');
  }
  phases.advance((kind) => tasks.tables[kind].finished);
  const reduce = tasks.tables.reduce;
  const r0 = reduce.tasks[0]!;
  /** A new reduce attempt, started now, that reports map `m`'s output unreadable. */
  const startReduce = () => {
    clock.advance(10);
    return reduce.assign(r0, 'w-2', clock.now());
  };
  const report = (m: number): ErrorReport & { mapOutput: number } => ({ code: 'TORPEDO_ERR_CORRUPT_DATA', message: `${mapOutputPath(layout, m)} is damaged`, mapOutput: m });
  return { parts, tasks, phases, clock, counters, failures, layout, r0, startReduce, report };
}

test('an unreadable map output: that map runs again, the reduce waits without a failure counted', (t) => {
  const j = job(t);
  const attempt = j.startReduce();
  mapOutputUnreadable(j.parts, j.r0, attempt, j.report(1));
  const map1 = j.tasks.tables.map.tasks[1]!;
  assert.equal(map1.state, 'pending');
  assert.equal(map1.reruns, 1);
  assert.equal(j.phases.current, 'map', 'back to the map phase');
  assert.equal(j.r0.state, 'pending');
  assert.equal(j.r0.failures, 0, 'not counted against the reduce');
  assert.equal(j.counters.counters[RERUN_COUNTER], 1);
  assert.ok(!existsSync(mapOutputPath(j.layout, 1)), 'the damaged file is gone');
  assert.ok(existsSync(mapOutputPath(j.layout, 0)), 'the other map output stays');
  assert.deepEqual(j.failures, []);
});

test('a report about a file already replaced is not charged to the map again', (t) => {
  const j = job(t);
  const first = j.startReduce();
  const { reduce, map } = j.tasks.tables;
  // A backup reduce attempt opened the old file too.
  const second = reduce.assign(j.r0, 'w-3', j.clock.now());
  mapOutputUnreadable(j.parts, j.r0, first, j.report(1));
  const map1 = map.tasks[1]!;
  j.clock.advance(5);
  map.succeed(map1, map.assign(map1, 'w-1', j.clock.now()), j.clock.now());
  j.phases.advance((kind) => j.tasks.tables[kind].finished);
  mapOutputUnreadable(j.parts, j.r0, second, j.report(1));
  assert.equal(map1.state, 'done', 'the new output is trusted');
  assert.equal(map1.reruns, 1);
  assert.equal(j.phases.current, 'reduce');
  assert.deepEqual(j.failures, []);
});

test('unreadable again after its re-run: the job fails, naming the file and both tasks', (t) => {
  const j = job(t);
  mapOutputUnreadable(j.parts, j.r0, j.startReduce(), j.report(0));
  const { map } = j.tasks.tables;
  const map0 = map.tasks[0]!;
  map.succeed(map0, map.assign(map0, 'w-1', j.clock.now()), j.clock.now());
  j.phases.advance((kind) => j.tasks.tables[kind].finished);
  mapOutputUnreadable(j.parts, j.r0, j.startReduce(), j.report(0));
  assert.equal(j.failures.length, 1);
  const [error] = j.failures;
  assert.equal(error?.code, 'TORPEDO_ERR_CORRUPT_DATA');
  assert.equal(error?.file, mapOutputPath(j.layout, 0));
  assert.match(error?.message ?? '', /reduce-00000 could not read the output of map-00000, which was run again for that already: .*map-00000\.run is damaged/);
});
