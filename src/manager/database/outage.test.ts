import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOutage, outageReason, untilSaved } from './outage.ts';

/** The shape drizzle throws: its own error, the driver's as `cause`. */
function wrapped(cause: Error): Error {
  return new Error('Failed query: select 1', { cause });
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('connection failures and server shutdowns are outages, through the wrapper', () => {
  assert.ok(isOutage(wrapped(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))));
  assert.ok(isOutage(wrapped(withCode('terminating connection due to administrator command', '57P01'))));
  assert.ok(isOutage(wrapped(withCode('the database system is starting up', '57P03'))));
  assert.ok(isOutage(wrapped(withCode('connection failure', '08006'))));
  assert.ok(isOutage(wrapped(new Error('Connection terminated unexpectedly'))));
  assert.ok(isOutage(new Error('timeout exceeded when trying to connect')));
});

test('a wrong query, a constraint or an error of ours is not an outage', () => {
  assert.equal(isOutage(wrapped(withCode('duplicate key value violates unique constraint', '23505'))), false);
  assert.equal(isOutage(wrapped(withCode('syntax error at or near "x"', '42601'))), false);
  assert.equal(isOutage(new Error('boom')), false);
  assert.equal(isOutage('ECONNREFUSED'), false, 'not an Error');
});

test("outageReason gives the driver's words, not the failed query", () => {
  assert.equal(outageReason(wrapped(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))), 'connect ECONNREFUSED 127.0.0.1:5432');
});

test('untilSaved waits out an outage, logs its start and end once, and throws other errors at once', async () => {
  const lines: string[] = [];
  let calls = 0;
  const saved = await untilSaved(
    'the end of job j',
    () => (++calls < 3 ? Promise.reject(wrapped(withCode('refused', 'ECONNREFUSED'))) : Promise.resolve('ok')),
    { log: (l) => lines.push(l), everyMs: 5 },
  );
  assert.equal(saved, 'ok');
  assert.equal(calls, 3);
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /does not answer \(refused\): the end of job j is kept/);
  assert.match(lines[1] ?? '', /answers again: the end of job j saved after 2 attempts/);
  await assert.rejects(untilSaved('x', () => Promise.reject(new Error('constraint')), { log: () => {}, everyMs: 5 }), /constraint/);
  await assert.rejects(
    untilSaved('x', () => Promise.reject(wrapped(withCode('refused', 'ECONNREFUSED'))), { log: () => {}, everyMs: 5, stopped: () => true }),
    /Failed query/,
    'a stopping manager gives up',
  );
});
