import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from './api-types.ts';
import { describeJob } from './jobs-commands.ts';

test("`torpedo status` shows a job's events, one line each, before its error", () => {
  const count = { done: 0, total: 0 };
  const job: Job = {
    id: 'job-1',
    name: null,
    owner: 'kate',
    job: 'wordcount',
    status: 'failed',
    phase: 'failed',
    progress: count,
    createdAt: '2026-12-03T18:40:00.000Z',
    startedAt: '2026-12-03T18:40:01.000Z',
    finishedAt: '2026-12-03T18:45:01.000Z',
    inputs: ['books'],
    reducers: 1,
    workers: 4,
    splitSize: null,
    maps: null,
    outputFormat: 'text',
    outputCompression: 'none',
    params: {},
    phases: { setup: count, map: count, reduce: count },
    mapBytes: 0,
    inputBytes: 0,
    tasks: [],
    counters: {},
    userCounters: {},
    wallMs: null,
    events: [{ at: '2026-12-03T18:45:01.000Z', message: '2 of 4 worker pods not started after 300 s: 2 Pending: ImagePullBackOff; the job goes on with 2' }],
    error: { code: 'TORPEDO_ERR_CANCELLED', message: 'cancelled by kate' },
  };
  const text = describeJob(job);
  assert.match(text, /^event {5}\S.* 2 of 4 worker pods not started after 300 s: 2 Pending: ImagePullBackOff; the job goes on with 2$/m);
  assert.ok(text.indexOf('event') < text.indexOf('error'));
});
