// One user cannot crowd out the others: the queue is fair across users, each user's running and
// queued jobs are capped (429 beyond the queue), on PGlite and on PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

/** A streaming job that holds its slot for `seconds` (no compile at submit: many can be queued fast). */
const sleeper = (seconds: number): Record<string, unknown> => ({ mapper: `sleep ${seconds}; cat`, reducer: 'cat', inputs: ['lines'], reducers: 1, workers: 1 });

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`a fair queue on ${kind}`, () => {
    let postgres: PostgresServer | undefined;
    const managers: TestManager[] = [];

    before(async () => {
      if (kind === 'postgres') postgres = await startPostgres();
    });
    after(async () => {
      for (const m of managers) await m.close();
      await postgres?.stop();
    });

    async function manager(env: Record<string, string>): Promise<TestManager> {
      if (postgres !== undefined) {
        const { resetPostgres } = await import('./support/manager-harness.ts');
        await resetPostgres(postgres.url);
      }
      const m = await startTestManager(kind, { env, ...(postgres !== undefined ? { postgresUrl: postgres.url } : {}) });
      managers.push(m);
      return m;
    }

    async function user(m: TestManager, name: string): Promise<string> {
      const token = await m.newUser(name);
      assert.equal((await m.call('POST', '/datasets?name=lines', { token, body: 'one\ntwo\n' })).status, 201);
      return token;
    }

    test("one user's queued jobs delay another's single job by one job slot at most", async () => {
      const m = await manager({ TORPEDO_MAX_RUNNING_JOBS: '1', TORPEDO_MAX_QUEUED_JOBS_PER_USER: '100' });
      const mallory = await user(m, 'mallory');
      const alice = await user(m, 'alice');
      const theirs: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await m.call('POST', '/jobs', { token: mallory, json: sleeper(1) });
        assert.equal(r.status, 201, r.body);
        theirs.push(r.json.id as string);
      }
      const mine = await m.call('POST', '/jobs', { token: alice, json: sleeper(0) });
      assert.equal(mine.status, 201, mine.body);
      const done = await m.waitForJob(alice, mine.json.id as string, 120_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      const started = Date.parse(done.startedAt as string);
      const submitted = Date.parse(done.createdAt as string);
      // Mallory's jobs that started after alice submitted and before her job did: none but the
      // one whose slot alice's job waited for, if that one had not started yet.
      const before = [];
      for (const id of theirs) {
        const j = (await m.call('GET', `/jobs/${id}`, { token: mallory })).json;
        if (j.startedAt !== null && Date.parse(j.startedAt) > submitted && Date.parse(j.startedAt) < started) before.push(id);
      }
      assert.ok(before.length <= 1, `${before.length} of mallory's jobs started ahead of alice's`);
      const queued = (await m.call('GET', '/jobs', { token: mallory })).json.jobs.filter((j: { status: string }) => j.status === 'queued').length;
      assert.ok(queued >= 8, `alice's job ran while most of mallory's still waited (${queued} queued)`);
      for (const id of theirs) await m.call('DELETE', `/jobs/${id}`, { token: mallory });
    });

    test("a user's queued jobs are capped (429 with a clear message); running ones too, so others get the free slots", async () => {
      const m = await manager({ TORPEDO_MAX_RUNNING_JOBS: '2', TORPEDO_MAX_RUNNING_JOBS_PER_USER: '1', TORPEDO_MAX_QUEUED_JOBS_PER_USER: '3' });
      const mallory = await user(m, 'mallory');
      const alice = await user(m, 'alice');
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await m.call('POST', '/jobs', { token: mallory, json: sleeper(2) }));
      const refused = answers.filter((r) => r.status === 429);
      assert.ok(refused.length >= 2, `statuses ${answers.map((r) => r.status).join(' ')}`);
      for (const r of refused) {
        assert.equal(r.json.error.code, 'TORPEDO_ERR_RATE_LIMITED');
        assert.match(r.json.error.message, /jobs waiting to run.*TORPEDO_MAX_QUEUED_JOBS_PER_USER/);
        assert.ok(Number(r.headers['retry-after']) > 0);
      }
      // Two slots, but one per user: mallory never has two running, and alice gets the other slot at once.
      const mine = await m.call('POST', '/jobs', { token: alice, json: sleeper(0) });
      assert.equal(mine.status, 201);
      const deadline = Date.now() + 20_000;
      let aliceRan = false;
      while (Date.now() < deadline) {
        const theirs = (await m.call('GET', '/jobs', { token: mallory })).json.jobs as { status: string }[];
        assert.ok(theirs.filter((j) => j.status === 'running').length <= 1, 'mallory has two jobs running');
        const j = (await m.call('GET', `/jobs/${mine.json.id}`, { token: alice })).json;
        if (j.status === 'succeeded') {
          aliceRan = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(aliceRan, "alice's job did not run beside mallory's");
      for (const r of answers.filter((a) => a.status === 201)) await m.call('DELETE', `/jobs/${r.json.id}`, { token: mallory });
    });
  });
}
