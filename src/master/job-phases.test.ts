import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobPhases } from './job-phases.ts';

test('a job goes setup → map → reduce → commit → succeeded, one event at a time', () => {
  const p = new JobPhases(true);
  assert.equal(p.current, 'setup');
  assert.equal(p.taskKind, 'setup');
  assert.equal(p.fire('tasks-done'), 'map');
  assert.equal(p.fire('tasks-done'), 'reduce');
  assert.equal(p.fire('tasks-done'), 'commit');
  assert.equal(p.taskKind, undefined);
  assert.equal(p.ended, false);
  assert.equal(p.fire('committed'), 'succeeded');
  assert.equal(p.ended, true);
});

test('a job without a setup task starts in map', () => {
  assert.equal(new JobPhases(false).current, 'map');
});

test('advance passes every phase whose tasks are done, and stops at the first that is not', () => {
  const p = new JobPhases(true);
  assert.equal(p.advance((kind) => kind === 'setup'), 'map');
  assert.equal(p.advance(() => false), 'map');
  assert.equal(p.advance(() => true), 'commit');
  assert.equal(p.advance(() => true), 'commit', 'commit is left by the job commit, not by tasks');
});

test('any phase before the end may fail; the end is final', () => {
  for (const through of [0, 1, 2, 3]) {
    const p = new JobPhases(true);
    for (let i = 0; i < through; i++) p.fire('tasks-done');
    assert.equal(p.fire('fail'), 'failed');
    assert.equal(p.ended, true);
  }
  const done = new JobPhases(false);
  done.advance(() => true);
  done.fire('committed');
  assert.throws(() => done.fire('fail'), /no transition 'fail' from succeeded/);
});

test('impossible moves throw with a diagnostic', () => {
  const p = new JobPhases(false);
  assert.throws(() => p.fire('committed'), /no transition 'committed' from map/);
  p.fire('fail');
  assert.throws(() => p.fire('tasks-done'), /no transition 'tasks-done' from failed/);
  assert.equal(p.advance(() => true), 'failed');
});
