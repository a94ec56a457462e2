// The job page's chart data, computed from a job as GET /jobs/:id returns it: the Gantt timeline
// of attempts per worker, and map throughput from finished tasks and from live progress samples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attempt, Job, Task } from '../web/src/api-types.ts';
import { throughputFromSamples, throughputFromTasks } from '../web/src/charts/throughput-data.ts';
import { timelineOf } from '../web/src/charts/timeline-data.ts';

const MiB = 2 ** 20;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const attempt = (id: string, worker: string, state: Attempt['state'], from: number, to: number | null, backup = false): Attempt => ({
  id,
  worker,
  state,
  backup,
  startedAt: at(from),
  endedAt: to === null ? null : at(to),
});
const task = (kind: Task['kind'], index: number, attempts: Attempt[], bytes?: number): Task => ({ kind, index, state: 'done', reused: false, attempts, ...(bytes !== undefined ? { bytes } : {}) });

const job: Pick<Job, 'startedAt' | 'tasks'> = {
  startedAt: at(0),
  tasks: [
    task('map', 0, [attempt('map-0-a0', 'w1', 'succeeded', 1, 3)], 2 * MiB),
    task('map', 1, [attempt('map-1-a0', 'w2', 'killed', 1, 5), attempt('map-1-a1', 'w10', 'succeeded', 3, 4, true)], MiB),
    task('map', 2, [attempt('map-2-a0', 'w1', 'failed', 3, 3.5), attempt('map-2-a1', 'w1', 'succeeded', 3.5, 4.5)], MiB),
    task('reduce', 0, [attempt('reduce-0-a0', 'w2', 'running', 5, null)]),
  ],
};

test('the timeline has one bar per attempt on its worker, in seconds since the start; running attempts end now', () => {
  const t = timelineOf(job, T0 + 6000);
  assert.equal(t.t0, T0);
  assert.deepEqual(t.workers, ['w1', 'w2', 'w10']);
  assert.equal(t.bars.length, 6);
  const backup = t.bars.find((b) => b.backup);
  assert.deepEqual({ worker: backup?.worker, start: backup?.start, end: backup?.end, state: backup?.state, task: backup?.task }, { worker: 'w10', start: 3, end: 4, state: 'succeeded', task: 'map 1' });
  const running = t.bars.find((b) => b.state === 'running');
  assert.deepEqual([running?.start, running?.end, running?.task], [5, 6, 'reduce 0']);
  assert.deepEqual(t.bars.filter((b) => b.state === 'failed').map((b) => b.attempt), ['map-2-a0']);
});

test('throughput from tasks spreads each committed map attempt’s bytes over its run time, as a rate over the last second', () => {
  const points = throughputFromTasks(job, T0, 1000, 45);
  // Committed attempts: 2 MiB over 1–3 s (1 MiB/s), 1 MiB over 3–4 s (the backup of map 1), 1 MiB over 3.5–4.5 s.
  assert.deepEqual(points[0], { x: 1, y: 0 });
  assert.deepEqual(points.at(-1), { x: 5.5, y: 0 });
  const at = (x: number): number => points.find((p) => Math.abs(p.x - x) < 1e-9)!.y;
  assert.equal(at(2), 1); // the last second: map 0 only
  assert.equal(at(3), 1);
  assert.equal(at(4), 1.5); // [3, 4]: 1 MiB of map 1 and half of map 2's
  assert.equal(at(4.5), 1.5); // [3.5, 4.5]: half of map 1's, all of map 2's
  // The area is the bytes read: 4 MiB.
  const width = (5.5 - 1) / 45;
  assert.ok(Math.abs(points.reduce((s, p) => s + p.y * width, 0) - 4) < 1e-2);
  assert.deepEqual(throughputFromTasks({ tasks: [task('map', 0, [attempt('a', 'w1', 'running', 0, null)], 5)] }, T0), []);
});

test('the live and the finished throughput agree: the same rate over the last second', () => {
  // What the progress events report while the job of `job` runs: each committed attempt's bytes
  // read at an even pace (the master counts a task's furthest attempt; here the winners').
  const spans = [
    { from: 1, to: 3, bytes: 2 * MiB },
    { from: 3, to: 4, bytes: MiB },
    { from: 3.5, to: 4.5, bytes: MiB },
  ];
  const mapBytes = (t: number): number => spans.reduce((s, p) => s + p.bytes * Math.min(1, Math.max(0, (t - p.from) / (p.to - p.from))), 0);
  const every = Array.from({ length: 46 }, (_, i) => 1 + i * 0.1).map((s) => ({ t: T0 + Math.round(s * 1000), mapBytes: mapBytes(s) }));
  const live = throughputFromSamples(every, T0);
  const finished = throughputFromTasks(job, T0, 1000, 45);
  for (const p of live) {
    const f = finished.find((q) => Math.abs(q.x - p.x) < 1e-6);
    if (f === undefined || p.x < 2) continue; // before a whole second of samples, the live window is shorter
    assert.ok(Math.abs(f.y - p.y) < 1e-3, `at ${p.x} s: finished ${f.y} MiB/s, live ${p.y} MiB/s`);
  }
});

test('a cancelled job’s timeline shows no running bars: attempts left running are stopped at the job’s end', () => {
  const cancelled = { ...job, status: 'cancelled' as const, finishedAt: at(5.5) };
  const t = timelineOf(cancelled, T0 + 60_000);
  assert.equal(t.bars.filter((b) => b.state === 'running').length, 0);
  const stopped = t.bars.find((b) => b.state === 'stopped');
  assert.deepEqual([stopped?.attempt, stopped?.start, stopped?.end], ['reduce-0-a0', 5, 5.5]);
});

test('throughput from live samples is a rate over the last second', () => {
  const samples = [0, 250, 500, 750, 1000, 1250, 2250].map((ms, i) => ({ t: T0 + ms, mapBytes: (i * MiB) / 4 }));
  const points = throughputFromSamples(samples, T0);
  assert.equal(points.length, 6);
  // 256 KiB every 250 ms: 1 MiB/s while events come every 250 ms…
  for (const p of points.slice(0, 5)) assert.equal(p.y, 1);
  // …and 256 KiB over the last second when the next event came a second later.
  assert.deepEqual(points[5], { x: 2.25, y: 0.25 });
  assert.deepEqual(throughputFromSamples([], T0), []);
});
