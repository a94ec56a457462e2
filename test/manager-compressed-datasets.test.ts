// Compressed datasets in the manager: uploaded as they are, read by their name's extension (or
// the job's inputCompression), with the same output as the data uncompressed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { prose } from './helpers.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

const TEXT = Buffer.from(prose(3000));

describe('compressed datasets', () => {
  let m: TestManager;
  let token: string;
  let plain: string;

  async function wordcount(dataset: string, extra: Record<string, unknown> = {}): Promise<string> {
    const job = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: [dataset], reducers: 2, ...extra } });
    assert.equal(job.status, 201, job.body);
    const done = await m.waitForJob(token, job.json.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const out = await m.call('GET', `/jobs/${job.json.id}/output`, { token });
    assert.equal(out.status, 200);
    return out.body;
  }

  before(async () => {
    m = await startTestManager('pglite');
    token = await m.newUser('carla');
    assert.equal((await m.call('POST', '/datasets?name=text.txt', { token, body: TEXT })).status, 201);
    plain = await wordcount('text.txt');
  });
  after(async () => {
    await m?.close();
  });

  test('a .gz, .bz2 or .zst dataset gives the output of the same data uncompressed', async () => {
    for (const [tool, ext] of [['gzip', 'gz'], ['bzip2', 'bz2'], ['zstd', 'zst']] as const) {
      const name = `text.${ext}`;
      const up = await m.call('POST', `/datasets?name=${name}`, { token, body: execFileSync(tool, ['-c'], { input: TEXT }) });
      assert.equal(up.status, 201, up.body);
      assert.equal(await wordcount(name, { splitSize: 4096 }), plain, name);
    }
  });

  test('inputCompression forces a codec, or none; a value it does not know is refused', async () => {
    assert.equal((await m.call('POST', '/datasets?name=packed', { token, body: execFileSync('gzip', ['-c'], { input: TEXT }) })).status, 201);
    assert.equal(await wordcount('packed', { inputCompression: 'gzip' }), plain);
    assert.equal(await wordcount('text.txt', { inputCompression: 'none' }), plain);
    const bad = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['text.txt'], inputCompression: 'lzma' } });
    assert.equal(bad.status, 400, bad.body);
    assert.match(bad.body, /inputCompression/);
  });

  test('a damaged dataset fails its job with the dataset, the codec and the reason', async () => {
    const gz = execFileSync('gzip', ['-c'], { input: TEXT });
    assert.equal((await m.call('POST', '/datasets?name=cut.gz', { token, body: gz.subarray(0, gz.length - 100) })).status, 201);
    const job = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['cut.gz'] } });
    assert.equal(job.status, 201, job.body);
    const done = await m.waitForJob(token, job.json.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error.code, 'TORPEDO_ERR_CORRUPT_INPUT');
    assert.match(done.error.message, /cut\.gz.*gzip.*truncated/);
    assert.doesNotMatch(done.error.message, /datasets\//, 'the dataset is named as its user knows it, not by its stored path');
  });
});
