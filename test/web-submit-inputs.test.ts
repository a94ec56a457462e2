// The submit form's input settings in a real browser (Debian's chromium through playwright-core)
// against a real manager: a JavaScript job with a side file, on a compressed JSON lines dataset
// read by its name, and CSV forced with its options.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { removeDir, tempDir } from './helpers.ts';
import { waitForJobEnd } from './support/manager-process.ts';
import { browserMissing, screenshot } from './support/browser.ts';
import { startWebSession, type WebSession } from './support/web-session.ts';

const SUM = `import { readFileSync } from 'node:fs';
export default {
  map(r, emit, ctx) {
    const rate = Number(readFileSync(ctx.files['rate.txt'], 'utf8'));
    emit(String(r.user ?? r[0]), Number(r.amount ?? r[1]) * rate);
  },
  reduce(key, values, emit) {
    let s = 0;
    for (const v of values) s += v;
    emit(key, s);
  },
};
`;

describe('web UI: input formats, compression and side files (chromium)', { skip: browserMissing() }, () => {
  let web: WebSession;
  const dir = tempDir('torpedo-web-inputs-');
  before(async () => {
    web = await startWebSession(['ines']);
    const jsonl = '{"user":"a","amount":1}\n{"user":"b","amount":2}\n{"user":"a","amount":3}\n';
    assert.equal((await web.rest('ines', 'POST', '/datasets?name=events.jsonl.gz', execFileSync('gzip', ['-c'], { input: jsonl }))).status, 201);
    assert.equal((await web.rest('ines', 'POST', '/datasets?name=rows', 'a;5\nb;7\n')).status, 201);
    writeFileSync(join(dir, 'rate.txt'), '10\n');
    writeFileSync(join(dir, 'job.mjs'), SUM);
  });
  after(async () => {
    await web?.close();
    removeDir(dir);
  });

  async function submitFromForm(dataset: string, choose: (page: Page) => Promise<void>, shot: string): Promise<string> {
    const page = await web.newPage();
    await web.signIn(page, 'ines');
    await page.goto('/#/submit');
    await page.getByLabel('Your job module (.ts or .js)').check();
    await page.getByLabel('Job module file').setInputFiles(join(dir, 'job.mjs'));
    await page.getByLabel('Side files (optional)').setInputFiles(join(dir, 'rate.txt'));
    await page.getByRole('list', { name: 'Side files' }).getByText('rate.txt').waitFor();
    await page.getByLabel(dataset).check();
    await choose(page);
    await screenshot(page, shot);
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    const id = decodeURIComponent(/#\/jobs\/(job-[^/?]+)/.exec(page.url())![1]!);
    await page.close();
    return id;
  }

  test('a JavaScript job with a side file on a .jsonl.gz dataset, its format and codec by name', async () => {
    const id = await submitFromForm('events.jsonl.gz', async (page) => {
      assert.equal(await page.getByLabel('Record format').inputValue(), 'auto');
      assert.equal(await page.getByLabel('Input compression').inputValue(), 'auto');
    }, 'submit-inputs-jsonl');
    const done = await waitForJobEnd(web.manager.url, web.token('ines'), id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal((await web.rest('ines', 'GET', `/jobs/${id}/output`)).text, 'a\t40\nb\t20\n');
  });

  test('CSV forced on a dataset without an extension, with its delimiter and no header', async () => {
    const id = await submitFromForm('rows', async (page) => {
      await page.getByLabel('Record format').selectOption('csv');
      await page.getByLabel('CSV delimiter').selectOption('semicolon');
      await page.getByLabel('First row names the columns').uncheck();
    }, 'submit-inputs-csv');
    const done = await waitForJobEnd(web.manager.url, web.token('ines'), id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal((await web.rest('ines', 'GET', `/jobs/${id}/output`)).text, 'a\t50\nb\t70\n');
  });

  test('choosing the built-in grep makes the job map-only (reducers 0), as the CLI and the API do', async () => {
    const page = await web.newPage();
    await web.signIn(page, 'ines');
    await page.goto('/#/submit');
    assert.equal(await page.getByLabel('Reducers').inputValue(), '1');
    await page.getByLabel('Example', { exact: true }).selectOption('grep');
    assert.equal(await page.getByLabel('Reducers').inputValue(), '0');
    await page.getByLabel('Example', { exact: true }).selectOption('wordcount');
    assert.equal(await page.getByLabel('Reducers').inputValue(), '1');
    await page.close();
  });

  test('the pages logged no errors', () => {
    assert.deepEqual(web.pageErrors, []);
  });
});
