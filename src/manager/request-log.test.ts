import assert from 'node:assert/strict';
import { it } from 'node:test';
import { redactQuery, requestLogLevel } from './request-log.ts';

it('redactQuery keeps the path and the parameter names, and drops every value', () => {
  assert.equal(redactQuery('/jobs/1/events'), '/jobs/1/events');
  assert.equal(redactQuery('/jobs/1/events?token=eyJ.a.b'), '/jobs/1/events?token=[redacted]');
  assert.equal(redactQuery('/datasets?name=books&overwrite=true'), '/datasets?name=[redacted]&overwrite=[redacted]');
  assert.equal(redactQuery('/x?token=a=b=c'), '/x?token=[redacted]');
  assert.equal(redactQuery('/x?'), '/x?');
  assert.equal(redactQuery('/x?a=1&&b=2'), '/x?a=[redacted]&&b=[redacted]');
});

it('redactQuery drops a part without = or with an odd key whole: it may be the secret', () => {
  assert.equal(redactQuery('/x?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig'), '/x?[redacted]');
  assert.equal(redactQuery('/x?flag&token=abc'), '/x?[redacted]&token=[redacted]');
  assert.equal(redactQuery('/x?=abc'), '/x?[redacted]');
  assert.equal(redactQuery('/x?to%6Ben=abc'), '/x?[redacted]');
  assert.equal(redactQuery('/x?a b=1'), '/x?[redacted]');
});

it('requestLogLevel: reads that succeed (polling) are debug; changes and failures are info', () => {
  assert.equal(requestLogLevel('GET', 200), 'debug');
  assert.equal(requestLogLevel('HEAD', 304), 'debug');
  assert.equal(requestLogLevel('GET', 404), 'info');
  assert.equal(requestLogLevel('GET', 500), 'info');
  assert.equal(requestLogLevel('POST', 201), 'info');
  assert.equal(requestLogLevel('DELETE', 204), 'info');
});
