import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExternalLauncher } from '../src/launcher/external-launcher.ts';
import { layoutForOutput } from '../src/master/job-layout.ts';
import { Master } from '../src/master/master.ts';
import { MasterClient } from '../src/protocol/client.ts';
import { removeDir, tempDir } from './helpers.ts';

/**
 * Fencing at the protocol level, step by step against a real master over HTTP: a worker whose
 * lease expired is refused at commit, told to abort at heartbeat, and its late reports change
 * nothing; the attempt that replaced it may commit. (test/netns-cluster.test.ts shows the same
 * across a real network, with whole jobs.)
 */
test('an attempt whose lease expired is refused at commit and at heartbeat; its late report is ignored', async () => {
  const dir = tempDir('torpedo-fencing-');
  const output = join(dir, 'out');
  const layout = layoutForOutput(output);
  for (const d of [layout.workDir, layout.attempts, layout.map, layout.reduce, layout.logs]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dir, 'in.txt'), 'a\nb\n');
  const log: string[] = [];
  const master = new Master(
    {
      jobId: 'job-fencing',
      jobName: 'fencing',
      layout,
      splits: [{ file: join(dir, 'in.txt'), start: 0, end: 4 }],
      reducers: 1,
      workers: 2,
      memoryBytes: 1 << 20,
      maxRecordBytes: 1 << 20,
      mergeFactor: 100,
      logCapBytes: 1 << 20,
      skipBadRecords: false,
      csvHeader: true,
      outputFormat: 'text',
      outputCompression: 'none',
      params: {},
      hasSetup: false,
      maxAttempts: 3,
      backupTasks: false,
      heartbeatMs: 100,
      leaseTimeoutMs: 300,
      token: 'secret',
      log: (line) => log.push(line),
    },
    new ExternalLauncher({ log: (line) => log.push(line), tokenHint: 'the token' }),
  );
  const done = master.run();
  try {
    await waitUntil(() => master.url !== '');
    const a = new MasterClient(master.url, 'secret');
    const b = new MasterClient(master.url, 'secret');
    const info = await a.register('wa');
    assert.equal(info.masterTimeoutMs, 600, 'workers give up after twice the lease');
    const first = await a.next('wa');
    assert.equal(first.type, 'task');
    const a0 = first.type === 'task' ? first.task.attemptId : '';

    // wa goes silent (a partition): its lease expires and the task goes back to pending.
    await waitUntil(() => log.some((l) => l.includes(`${a0} lost: no heartbeat from wa`)), 3000);
    await b.register('wb');
    const second = await b.next('wb');
    assert.equal(second.type, 'task');
    const b0 = second.type === 'task' ? second.task.attemptId : '';
    assert.notEqual(b0, a0);
    assert.equal(second.type === 'task' ? second.task.attempt : -1, 1, 'the re-run is attempt 1');

    // wa comes back: it is told to abort, and may not commit.
    assert.deepEqual(await a.heartbeat('wa', a0, 4), { abort: true });
    const refused = await a.commit('wa', a0);
    assert.equal(refused.commit, false);
    assert.match(refused.reason ?? '', /lost/);
    // Someone else's attempt id is refused as well.
    assert.equal((await a.commit('wa', b0)).commit, false);
    // Its late `done` is ignored: the task is not done, its counters are not counted.
    await a.done({ workerId: 'wa', attemptId: a0, counters: { 'map input records': 2 }, userCounters: {}, committed: true, maxRssBytes: 0 });
    assert.equal(master.progress().phases.map.done, 0);
    assert.equal(master.snapshot().counters['map input records'], undefined);
    assert.ok(log.some((l) => l.includes(`late report of ${a0} from wa ignored`)));

    // The current attempt may commit.
    assert.deepEqual(await b.commit('wb', b0), { commit: true });
  } finally {
    master.abort({ code: 'TORPEDO_ERR_CANCELLED', message: 'end of test' });
    const summary = await done;
    assert.equal(summary.status, 'failed');
    removeDir(dir);
  }
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
