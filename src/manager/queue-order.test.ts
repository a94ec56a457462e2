import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queueOrder, queuePlaces, type QueuedJob } from './queue-order.ts';

const job = (id: string, ownerId: number, createdAt: number): QueuedJob => ({ id, ownerId, createdAt });

test('the queue alternates between users, the one with fewer running jobs first', () => {
  // Owner 1 queued three jobs before owner 2 queued one; owner 1 already runs a job.
  const queued = [job('a1', 1, 1), job('a2', 1, 2), job('a3', 1, 3), job('b1', 2, 4)];
  const state = { runningOf: new Map([[1, 1]]), lastStart: new Map([[1, 100]]) };
  assert.deepEqual(queueOrder(queued, state), ['b1', 'a1', 'a2', 'a3']);
  assert.deepEqual(queueOrder(queued, { runningOf: new Map(), lastStart: new Map() }), ['a1', 'b1', 'a2', 'a3']);
});

test('a queued job waits for the user cap when its owner runs as many as allowed, else for the running-jobs cap', () => {
  const queued = [job('a1', 1, 1), job('b1', 2, 2)];
  const state = { runningOf: new Map([[1, 1]]), lastStart: new Map([[1, 5]]) };
  const places = queuePlaces(queued, state, 1, 1, 1);
  assert.deepEqual(places.get('b1'), { position: 1, reason: 'running-jobs-cap' });
  assert.deepEqual(places.get('a1'), { position: 2, reason: 'user-cap' });
  assert.equal(queuePlaces(queued, state, 1, 4, 2).get('b1')?.reason, 'starting');
});
