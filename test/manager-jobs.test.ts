// Job scheduling in the manager: the cap on running jobs, the queue, cancelling (workers stopped),
// and live progress over Server-Sent Events from a real listening server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './helpers.ts';
import { ADMIN_PASSWORD, startTestManager, type TestManager } from './support/manager-harness.ts';

const SLOW = readFileSync(join(ROOT, 'test', 'jobs', 'slow-map.mjs'), 'utf8');
const LINES = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n') + '\n';

/** Worker processes that are children of this test process. */
function workerChildren(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(' worker --master '));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('manager job scheduling', () => {
  let m: TestManager;
  let token: string;

  before(async () => {
    m = await startTestManager('pglite', { env: { TORPEDO_MAX_RUNNING_JOBS: '1' } });
    token = await m.newUser('olga');
    await m.call('POST', '/datasets?name=lines', { token, body: LINES });
    await m.call('POST', '/datasets?name=sample', { token, body: readFileSync(join(ROOT, 'examples', 'data', 'sample.txt')) });
  });
  after(async () => {
    await m?.close();
  });

  test('with a cap of 1, a second job waits queued; cancelling the first stops its workers and starts the second', async () => {
    const slow = await m.call('POST', '/jobs', { token, json: { code: SLOW, language: 'js', inputs: ['lines'], workers: 2, maps: 4 } });
    assert.equal(slow.status, 201, slow.body);
    const quick = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'] } });
    assert.equal(quick.status, 201);
    await until('the slow job to run a task', async () => {
      const j = (await m.call('GET', `/jobs/${slow.json.id}`, { token })).json;
      return j.status === 'running' && j.tasks.some((t: { attempts: unknown[] }) => t.attempts.length > 0) ? j : undefined;
    });
    assert.equal((await m.call('GET', `/jobs/${quick.json.id}`, { token })).json.status, 'queued');
    assert.ok(workerChildren().length >= 1, 'the slow job has worker processes');

    const cancel = await m.call('DELETE', `/jobs/${slow.json.id}`, { token });
    assert.equal(cancel.status, 200, cancel.body);
    assert.equal(cancel.json.status, 'cancelled');
    assert.equal(cancel.json.error.code, 'TORPEDO_ERR_CANCELLED');
    assert.match(cancel.json.error.message, /olga/);
    const done = await m.waitForJob(token, quick.json.id);
    assert.equal(done.status, 'succeeded');
    await until('workers to exit', async () => (workerChildren().length === 0 ? true : undefined), 10_000);
    assert.equal((await m.call('POST', `/jobs/${slow.json.id}/cancel`, { token })).status, 409);
    assert.equal((await m.call('GET', `/jobs/${slow.json.id}/output`, { token })).status, 409);
  });

  test('a queued job can be cancelled before it starts; a dataset in use cannot be deleted', async () => {
    const first = await m.call('POST', '/jobs', { token, json: { code: SLOW, language: 'js', inputs: ['lines'], workers: 1 } });
    const second = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'] } });
    assert.equal((await m.call('GET', `/jobs/${second.json.id}`, { token })).json.status, 'queued');
    const del = await m.call('DELETE', '/datasets/sample', { token });
    assert.equal(del.status, 409);
    assert.match(del.json.error.message, new RegExp(second.json.id));
    const c = await m.call('DELETE', `/jobs/${second.json.id}`, { token });
    assert.equal(c.json.status, 'cancelled');
    assert.equal(c.json.startedAt, null);
    assert.equal((await m.call('DELETE', `/jobs/${first.json.id}`, { token })).json.status, 'cancelled');
  });

  test('GET /jobs/:id/events streams progress and ends with the finished job', async () => {
    const url = await m.manager.app.listen({ host: '127.0.0.1', port: 0 });
    const sub = await m.call('POST', '/jobs', { token, json: { code: SLOW.replace('200', '5'), language: 'js', inputs: ['lines'], maps: 4, reducers: 2 } });
    assert.equal(sub.status, 201);
    // EventSource cannot send headers: the token may come in the query.
    const res = await fetch(`${url}/jobs/${sub.json.id}/events?token=${token}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events: { event: string; data: any }[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
      }
    }
    assert.equal(events[0]?.event, 'job');
    const progress = events.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 2, `progress events: ${progress.length}`);
    const doneCounts = progress.filter((e) => e.data.phase === 'map').map((e) => e.data.phases.map.done as number);
    assert.deepEqual(doneCounts, [...doneCounts].sort((a, b) => a - b), 'map progress only grows');
    const last = events.at(-1);
    assert.equal(last?.event, 'job');
    assert.equal(last?.data.status, 'succeeded');
    assert.deepEqual(last?.data.outputParts, ['part-r-00000', 'part-r-00001']);
    // After the end, a new subscriber gets the finished job at once, and the stream closes.
    const again = await (await fetch(`${url}/jobs/${sub.json.id}/events`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.match(again, /^event: job\ndata: .*"status":"succeeded"/);
    assert.equal((await fetch(`${url}/jobs/${sub.json.id}/events?token=forged`)).status, 401);
  });

  test('a streaming job (Python mapper and reducer sent as files) gives the built-in wordcount’s output', async () => {
    const files = Object.fromEntries(['mapper.py', 'reducer.py'].map((f) => [f, readFileSync(join(ROOT, 'examples', 'streaming', f), 'utf8')]));
    const stream = await m.call('POST', '/jobs', { token, json: { mapper: 'python3 mapper.py', reducer: 'python3 reducer.py', combiner: 'python3 reducer.py', files, inputs: ['sample'], reducers: 2 } });
    assert.equal(stream.status, 201, stream.body);
    const builtin = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 2 } });
    const [s, b] = [await m.waitForJob(token, stream.json.id), await m.waitForJob(token, builtin.json.id)];
    assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
    assert.equal(s.job, 'streaming');
    assert.deepEqual(s.streaming, { mapper: 'python3 mapper.py', reducer: 'python3 reducer.py', combiner: 'python3 reducer.py', files: ['mapper.py', 'reducer.py'] });
    assert.equal(s.userCounters['wordcount.lines'], 10);
    const out = async (id: string): Promise<string> => (await m.call('GET', `/jobs/${id}/output`, { token })).body;
    assert.equal(await out(stream.json.id), await out(b.id));
    const bad = await m.call('POST', '/jobs', { token, json: { mapper: 'cat', inputs: ['sample'] } });
    assert.equal(bad.status, 400);
    const badName = await m.call('POST', '/jobs', { token, json: { mapper: 'cat', reducer: 'cat', files: { '../x.py': 'print(1)' }, inputs: ['sample'] } });
    assert.equal(badName.status, 400);
  });

  test("a failed job's error names the dataset and the job's files, not the manager's storage paths", async () => {
    const code = "export default { map(line) { if (line.includes('MapReduce')) throw new Error('poisoned: ' + line.slice(0, 10)); }, reduce() {} };";
    const sub = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['sample'] } });
    assert.equal(sub.status, 201, sub.body);
    const job = await m.waitForJob(token, sub.json.id);
    assert.equal(job.status, 'failed');
    assert.match(job.error.message, /poisoned/);
    assert.equal(job.error.file, 'sample');
    const text = JSON.stringify(job);
    assert.ok(!text.includes(m.home.slice(1)), text);
    assert.match(job.error.stack, /at map \(job\.mjs:1:\d+\)/);
  });

  test("ctx.file and a streaming mapper's mapreduce_map_input_file are the dataset's name, as errors say, not a storage path", async () => {
    const code = 'export default { map(line, emit, ctx) { emit(ctx.file, 1); }, reduce(key, values, emit) { let n = 0; for (const _ of values) n++; emit(key, n); } };';
    const sub = await m.call('POST', '/jobs', { token, json: { code, language: 'js', inputs: ['lines', 'sample'] } });
    assert.equal(sub.status, 201, sub.body);
    const job = await m.waitForJob(token, sub.json.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal((await m.call('GET', `/jobs/${job.id}/output`, { token })).body, 'lines\t200\nsample\t10\n');
    const mapper = 'import os, sys\nfor line in sys.stdin:\n    print(os.environ["mapreduce_map_input_file"] + "\\t1")\n';
    const stream = await m.call('POST', '/jobs', { token, json: { mapper: 'python3 mapper.py', reducer: 'uniq -c', files: { 'mapper.py': mapper }, inputs: ['sample'] } });
    assert.equal(stream.status, 201, stream.body);
    const s = await m.waitForJob(token, stream.json.id);
    assert.equal(s.status, 'succeeded', JSON.stringify(s.error));
    assert.match((await m.call('GET', `/jobs/${s.id}/output`, { token })).body, /^\s*10 sample\t1\n$/);
  });

  test('deleting a user cancels their jobs and removes their files', async () => {
    const admin = await m.login('admin', ADMIN_PASSWORD);
    const t = await m.newUser('pete');
    await m.call('POST', '/datasets?name=lines', { token: t, body: LINES });
    const job = await m.call('POST', '/jobs', { token: t, json: { code: SLOW, language: 'js', inputs: ['lines'], workers: 1 } });
    assert.equal(job.status, 201);
    assert.equal((await m.call('DELETE', '/users/pete', { token: admin })).status, 204);
    assert.equal((await m.call('GET', `/jobs/${job.json.id}`, { token: admin })).status, 404);
    assert.equal((await m.call('GET', '/datasets/lines?owner=pete', { token: admin })).status, 404);
    await until('workers to exit', async () => (workerChildren().length === 0 ? true : undefined), 10_000);
  });
});
