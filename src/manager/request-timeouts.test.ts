import assert from 'node:assert/strict';
import { it } from 'node:test';
import { serverTimeouts, tooSlow } from './request-timeouts.ts';

it('tooSlow: a body must be whole after its one window; an upload must bring minBytes in each', () => {
  const body = { upload: false, minBytes: 65536 };
  const upload = { upload: true, minBytes: 65536 };
  assert.equal(tooSlow(body, { bytes: 10 ** 9, complete: false }), true, 'fast but not whole');
  assert.equal(tooSlow(body, { bytes: 0, complete: true }), false);
  assert.equal(tooSlow(upload, { bytes: 65535, complete: false }), true);
  assert.equal(tooSlow(upload, { bytes: 65536, complete: false }), false);
  assert.equal(tooSlow(upload, { bytes: 0, complete: true }), false, 'the last window may be short');
});

it("serverTimeouts: Node's headersTimeout, checked a few times per timeout; no whole-request limit", () => {
  const t = serverTimeouts({ metricsToken: undefined, headersTimeoutMs: 20_000, bodyTimeoutMs: 30_000, uploadMinBytes: 1, keepAliveTimeoutMs: 72_000 });
  assert.deepEqual(t, { http: { headersTimeout: 20_000, requestTimeout: 0, connectionsCheckingInterval: 5000 }, requestTimeout: 0, keepAliveTimeout: 72_000 });
  assert.equal(serverTimeouts({ metricsToken: undefined, headersTimeoutMs: 2000, bodyTimeoutMs: 1, uploadMinBytes: 1, keepAliveTimeoutMs: 1 }).http.connectionsCheckingInterval, 500);
});
