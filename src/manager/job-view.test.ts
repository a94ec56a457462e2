import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobRow } from './job-records.ts';
import { jobView, storagePathRedactor } from './job-view.ts';

test('storage paths in job errors become dataset names and job-relative paths', () => {
  const redact = storagePathRedactor('/srv/torpedo.home');
  assert.equal(redact('/srv/torpedo.home/datasets/12/books.txt:1024: boom'), 'books.txt:1024: boom');
  assert.equal(
    redact('at map (file:///srv/torpedo.home/jobs/job-abc-12ef/bundle/job.mjs:3:9)\n at /srv/torpedo.home/jobs/job-abc-12ef/output/_temporary/x'),
    'at map (bundle/job.mjs:3:9)\n at output/_temporary/x',
  );
  assert.equal(redact('at map (srv/torpedo.home/jobs/job-1/job.mjs:1:68)'), 'at map (job.mjs:1:68)');
  // Other paths, and look-alikes of the home directory, are left alone.
  assert.equal(redact('/srv/torpedoXhome/datasets/1/a and /etc/passwd'), '/srv/torpedoXhome/datasets/1/a and /etc/passwd');
});

test("a job's events: the live snapshot's while it runs, the saved summary's after; ISO times; storage paths redacted", () => {
  const at = Date.parse('2026-12-03T18:40:12.000Z');
  const message = '1 of 2 worker pods not started after 300 s: 1 Pending: ImagePullBackOff; the job goes on with 1';
  const phases = { setup: { done: 0, total: 0 }, map: { done: 1, total: 2 }, reduce: { done: 0, total: 1 } };
  const row = {
    id: 'job-1',
    ownerId: 1,
    job: 'wordcount',
    name: null,
    spec: { inputs: ['books'], reducers: 1, workers: 2, params: {}, pods: { cpu: '2' } },
    status: 'running',
    phase: 'map',
    progress: null,
    tasks: null,
    counters: null,
    error: null,
    createdAt: new Date(at),
    startedAt: new Date(at),
    finishedAt: null,
  } as unknown as JobRow;
  const live = { phase: 'map' as const, phases, mapBytes: 0, inputBytes: 0, tasks: [], counters: {}, userCounters: {}, events: [{ at, message: `${message} (/srv/h/datasets/1/books)` }] };
  const running = jobView(row, 'kate', live, [], storagePathRedactor('/srv/h'));
  assert.deepEqual(running.events, [{ at: '2026-12-03T18:40:12.000Z', message: `${message} (books)` }]);
  assert.deepEqual(running.pods, { cpu: '2' });
  const ended = { ...row, status: 'succeeded', counters: { counters: {}, userCounters: {}, wallMs: 5, events: [{ at, message }] } } as unknown as JobRow;
  assert.deepEqual(jobView(ended, 'kate', live, []).events, [{ at: '2026-12-03T18:40:12.000Z', message }]);
  assert.equal(jobView({ ...row, counters: null } as JobRow, 'kate', undefined, []).events, undefined, 'none: no field');
});
