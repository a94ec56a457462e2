import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Master } from '../master/master.ts';
import { MasterClient } from './client.ts';
import type { JobInfo, ProtocolRoute, TaskProtocol } from './messages.ts';

// The master answers with the protocol's response types: a reply it builds that the schema would
// refuse does not compile. (Checked by tsc; nothing runs.)
const _masterSpeaksTheProtocol = (m: Master): TaskProtocol => m;

const TOKEN = 'secret';
const INFO: JobInfo = {
  protocol: 1,
  jobId: 'job-1',
  jobName: 'wordcount',
  bundle: '/out/_temporary/job.mjs',
  workDir: '/out/_temporary',
  reducers: 2,
  outputFormat: 'text',
  outputCompression: 'none',
  memoryBytes: 1 << 30,
  maxRecordBytes: 1 << 20,
  mergeFactor: 100,
  heartbeatMs: 100,
  logCapBytes: 1 << 20,
  skipBadRecords: false,
  csvHeader: true,
  params: {},
  maps: 3,
  masterTimeoutMs: 5000,
};

/** What the loopback master answers, per route: a status and a body (sent as is if a string). */
type Answer = { status?: number; body: unknown };
let answers: Partial<Record<ProtocolRoute, Answer | (() => Answer)>> = {};
const asked: string[] = [];
let server: Server;
let url: string;

before(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    req.resume();
    req.on('end', () => {
      const given = answers[req.url as ProtocolRoute];
      const answer = req.headers.authorization !== `Bearer ${TOKEN}` ? { status: 401, body: 'token' } : typeof given === 'function' ? given() : given;
      const text = answer === undefined ? '{"error":"no such route"}' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer?.status ?? (answer === undefined ? 404 : 200), { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const client = (): MasterClient => new MasterClient(url, TOKEN, 2000);

const refused = async (call: Promise<unknown>, route: ProtocolRoute, why: RegExp): Promise<void> => {
  asked.length = 0;
  await assert.rejects(call, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'TORPEDO_ERR_PROTOCOL');
    assert.match(e.message, new RegExp(`reply to POST ${route} `));
    assert.match(e.message, why);
    return true;
  });
  assert.deepEqual(asked, [route], 'a malformed reply is a definite answer: asked once, not retried');
};

test('well-formed replies come back parsed, for every route', async () => {
  answers = {
    '/v1/register': { body: INFO },
    '/v1/next': { body: { type: 'task', task: { attemptId: 'map-00001-a0', kind: 'map', index: 1, attempt: 0, split: { file: '/in/a', start: 0, end: 10 } } } },
    '/v1/heartbeat': { body: { abort: false } },
    '/v1/commit': { body: { commit: false, reason: 'another attempt committed first' } },
    '/v1/done': { body: { ok: true } },
    '/v1/failed': { body: { ok: true } },
  };
  const c = client();
  assert.deepEqual(await c.register('w1'), INFO);
  assert.deepEqual(await c.next('w1'), { type: 'task', task: { attemptId: 'map-00001-a0', kind: 'map', index: 1, attempt: 0, split: { file: '/in/a', start: 0, end: 10 } } });
  assert.deepEqual(await c.heartbeat('w1', 'map-00001-a0', 5), { abort: false });
  assert.deepEqual(await c.commit('w1', 'map-00001-a0'), { commit: false, reason: 'another attempt committed first' });
  await c.done({ workerId: 'w1', attemptId: 'map-00001-a0', counters: {}, userCounters: {}, committed: true, maxRssBytes: 0 });
  await c.failed({ workerId: 'w1', attemptId: 'map-00001-a0', error: { code: 'TORPEDO_ERR_USER_CODE', message: 'boom' }, maxRssBytes: 0 });
});

test('a reply of the wrong shape is a protocol error naming the route and the field', async () => {
  const c = client();
  answers = { '/v1/next': { body: { type: 'task', task: { attemptId: 'map-00001-a0', kind: 'combine', index: 1, attempt: 0 } } } };
  await refused(c.next('w1'), '/v1/next', /at task\.kind/);
  answers = { '/v1/next': { body: { type: 'later' } } };
  await refused(c.next('w1'), '/v1/next', /at type/);
  answers = { '/v1/register': { body: { ...INFO, protocol: 2 } } };
  await refused(c.register('w1'), '/v1/register', /at protocol/);
  answers = { '/v1/heartbeat': { body: { abort: 'no' } } };
  await refused(c.heartbeat('w1', 'a', 0), '/v1/heartbeat', /at abort/);
  answers = { '/v1/commit': { body: {} } };
  await refused(c.commit('w1', 'a'), '/v1/commit', /at commit/);
  answers = { '/v1/done': { body: { ok: false } } };
  await refused(c.done({ workerId: 'w1', attemptId: 'a', counters: {}, userCounters: {}, committed: true, maxRssBytes: 0 }), '/v1/done', /at ok/);
});

test('a reply that is not JSON (cut short, or not from a master) is a protocol error, not retried', async () => {
  answers = { '/v1/heartbeat': { body: '{"abort":' } };
  await refused(client().heartbeat('w1', 'a', 0), '/v1/heartbeat', /is not JSON.*the reply: \{"abort":/);
  answers = { '/v1/failed': { body: '<html>proxy error</html>' } };
  await refused(client().failed({ workerId: 'w1', attemptId: 'a', error: { code: 'X', message: 'm' }, maxRssBytes: 0 }), '/v1/failed', /is not JSON/);
});

test('a refusal (4xx) is a protocol error; a 5xx is retried until the master answers', async () => {
  answers = { '/v1/commit': { status: 400, body: { error: 'bad request' } } };
  await assert.rejects(client().commit('w1', 'a'), { code: 'TORPEDO_ERR_PROTOCOL', message: /master refused \/v1\/commit \(400\)/ });
  let calls = 0;
  answers = { '/v1/heartbeat': () => (++calls < 3 ? { status: 503, body: 'busy' } : { body: { abort: true } }) };
  assert.deepEqual(await client().heartbeat('w1', 'a', 0), { abort: true });
  assert.equal(calls, 3);
});
