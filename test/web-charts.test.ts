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

test('throughput from tasks spreads each committed map attempt’s bytes over its run time', () => {
  const points = throughputFromTasks(job, T0, 7);
  // Committed attempts (in MiB/s, as sizes are shown): 2 MiB over 1–3 s (1 MiB/s), 1 MiB over 3–4 s, 1 MiB over 3.5–4.5 s.
  assert.deepEqual(points[0], { x: 1, y: 0 });
  assert.deepEqual(points.at(-1), { x: 4.5, y: 0 });
  const inner = points.slice(1, -1);
  assert.equal(inner.length, 7);
  const mbAt = (x: number): number => inner.find((p) => Math.abs(p.x - x) < 1e-9)!.y;
  assert.equal(mbAt(1.25), 1);
  assert.equal(mbAt(3.25), 1); // only the backup of map 1 (1 MiB/s); map 2's committed attempt starts at 3.5
  assert.equal(mbAt(3.75), 2);
  assert.equal(mbAt(4.25), 1);
  // The area is the bytes read: 4 MiB.
  const width = 0.5;
  assert.ok(Math.abs(inner.reduce((s, p) => s + p.y * width, 0) - 4) < 1e-6);
  assert.deepEqual(throughputFromTasks({ tasks: [task('map', 0, [attempt('a', 'w1', 'running', 0, null)], 5)] }, T0), []);
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
