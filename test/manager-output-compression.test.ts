// Compressed and structured output through the manager: POST /jobs takes outputFormat and
// outputCompression; the job's parts are named by their codec; a preview (?decompress=true) is the
// text, a download is the file as stored. Real manager, real workers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ROOT } from './helpers.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

describe('manager: compressed output', () => {
  let m: TestManager;
  let token: string;
  /** The text of each part of the same job, uncompressed. */
  let plain: string[];

  before(async () => {
    m = await startTestManager('pglite');
    token = await m.newUser('ines');
    await m.call('POST', '/datasets?name=sample', { token, body: readFileSync(join(ROOT, 'examples', 'data', 'sample.txt')) });
    const sub = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 2 } });
    assert.equal(sub.status, 201, sub.body);
    const job = await m.waitForJob(token, sub.json.id);
    assert.equal(job.status, 'succeeded');
    plain = await Promise.all(job.outputParts.map(async (p: string) => (await m.call('GET', `/jobs/${job.id}/output/${p}`, { token })).body));
  });
  after(async () => {
    await m?.close();
  });

  for (const [codec, ext, type] of [
    ['gzip', '.gz', 'application/gzip'],
    ['zstd', '.zst', 'application/zstd'],
    ['bzip2', '.bz2', 'application/x-bzip2'],
  ] as const) {
    test(`${codec}: parts named part-r-NNNNN${ext}; the preview shows their text, the download their stored bytes`, async () => {
      const sub = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], reducers: 2, outputCompression: codec } });
      assert.equal(sub.status, 201, sub.body);
      const job = await m.waitForJob(token, sub.json.id);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.outputParts, [`part-r-00000${ext}`, `part-r-00001${ext}`]);
      assert.deepEqual([job.outputFormat, job.outputCompression], ['text', codec]);
      for (const [i, part] of (job.outputParts as string[]).entries()) {
        const preview = await m.call('GET', `/jobs/${job.id}/output/${part}?decompress=true`, { token });
        assert.equal(preview.status, 200, preview.body);
        assert.match(String(preview.headers['content-type']), /^text\/plain/);
        assert.equal(preview.body, plain[i]);
        const download = await m.call('GET', `/jobs/${job.id}/output/${part}`, { token });
        assert.equal(download.headers['content-type'], type);
        assert.notEqual(download.rawBody.toString('utf8'), plain[i]);
        if (codec === 'gzip') assert.equal(gunzipSync(download.rawBody).toString('utf8'), plain[i]);
      }
      if (codec === 'gzip') {
        // All parts in one download: their members concatenated, one valid .gz of the whole output.
        const all = await m.call('GET', `/jobs/${job.id}/output`, { token });
        assert.equal(gunzipSync(all.rawBody).toString('utf8'), plain.join(''));
      }
    });
  }

  test('outputFormat jsonl through POST /jobs; an unknown codec is refused with 400', async () => {
    const sub = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], outputFormat: 'jsonl' } });
    assert.equal(sub.status, 201, sub.body);
    const job = await m.waitForJob(token, sub.json.id);
    assert.equal(job.outputFormat, 'jsonl');
    const first = (await m.call('GET', `/jobs/${job.id}/output/part-r-00000?decompress=true`, { token })).body.split('\n')[0] ?? '';
    assert.match(first, /^\{"key":".*","value":\d+\}$/);
    const bad = await m.call('POST', '/jobs', { token, json: { example: 'wordcount', inputs: ['sample'], outputCompression: 'lz4' } });
    assert.equal(bad.status, 400, bad.body);
  });
});
