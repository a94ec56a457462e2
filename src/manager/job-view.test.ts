import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storagePathRedactor } from './job-view.ts';

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
