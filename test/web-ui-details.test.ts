// Details of the web UI in a real browser (chromium through playwright-core) against a real
// `torpedo manager` process: the jobs list's progress bars line up, a cancelled job's timeline has
// no running bars, the job page's headings are plain words, the code editor starts from a job
// that runs as it is, and a built-in example's declared parameters get their rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuild } from '../src/manager/web-build.ts';
import { JOB_TEMPLATE } from '../web/src/job-template.ts';
import { removeDir, tempDir } from './helpers.ts';
import { browserMissing, LAPTOP, launchBrowser } from './support/browser.ts';
import { api, startManagerProcess, waitForJobEnd, type ManagerProcess } from './support/manager-process.ts';

const ADMIN_PASSWORD = 'admin-password-1';

/** Word count that sleeps 20 ms every 10 lines: long enough to cancel while attempts run. */
const SLOW_WORDCOUNT = `let lines = 0;
export default {
  async map(line, emit) {
    if (++lines % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const w of line.split(' ')) if (w) emit(w, 1);
  },
  reduce(word, counts, emit) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
};
`;

const TEXT = Array.from({ length: 4000 }, (_, i) => `alpha bravo ${i % 7 === 0 ? 'Charlie' : 'delta'} echo_${i % 5}`).join('\n') + '\n';

describe('web UI details (chromium)', { skip: browserMissing() }, () => {
  const home = tempDir('torpedo-web-details-');
  let m: ManagerProcess;
  let browser: Browser;
  let page: Page;
  let token: string;
  let done: string;
  let cancelled: string;

  before(async () => {
    await ensureWebBuild();
    [m, browser] = await Promise.all([startManagerProcess(home, { TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_LOG: 'off' }), launchBrowser()]);
    token = (await api(m.url, 'POST', '/auth/login', undefined, { username: 'admin', password: ADMIN_PASSWORD })).json.token as string;
    assert.equal((await api(m.url, 'POST', '/datasets?name=words.txt', token, TEXT)).status, 201);
    done = (await api(m.url, 'POST', '/jobs', token, { example: 'wordcount', inputs: ['words.txt'] })).json.id as string;
    assert.equal((await waitForJobEnd(m.url, token, done)).status, 'succeeded');
    const slow = await api(m.url, 'POST', '/jobs', token, { code: SLOW_WORDCOUNT, language: 'js', inputs: ['words.txt'], maps: 8, workers: 2 });
    assert.equal(slow.status, 201, slow.text);
    cancelled = slow.json.id as string;
    // Cancelled while attempts run.
    const deadline = Date.now() + 60_000;
    while (!((await api(m.url, 'GET', `/jobs/${cancelled}`, token)).json.tasks as { attempts: { state: string }[] }[]).some((t) => t.attempts.some((a) => a.state === 'running'))) {
      assert.ok(Date.now() < deadline, 'no attempt ever ran');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await api(m.url, 'DELETE', `/jobs/${cancelled}`, token)).status, 200);
    const context = await browser.newContext({ viewport: LAPTOP, baseURL: m.url });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto('/#/sign-in');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  });
  after(async () => {
    await browser?.close();
    m?.child.kill('SIGTERM');
    removeDir(home);
  });

  test('the jobs list’s progress bars line up, whatever their text says', async () => {
    await page.locator(`tr[data-job="${cancelled}"] .badge.status-cancelled`).waitFor();
    const boxes = await page.locator('.jobs .progress-track').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })));
    assert.equal(boxes.length, 2);
    const texts = await page.locator('.jobs .progress-text').allInnerTexts();
    assert.notEqual(texts[0], texts[1]);
    for (const b of boxes) {
      assert.ok(Math.abs(b.left - boxes[0]!.left) < 1 && Math.abs(b.right - boxes[0]!.right) < 1, `bars do not line up: ${JSON.stringify(boxes)} (${texts.join(' | ')})`);
    }
  });

  test('a cancelled job’s timeline shows no running bars; its headings are plain words', async () => {
    await page.goto(`/#/jobs/${encodeURIComponent(cancelled)}`);
    await page.locator('.badge.status-cancelled').waitFor();
    const label = (await page.locator('#timeline-title + .chart canvas').getAttribute('aria-label')) ?? '';
    assert.match(label, /stopped/);
    assert.doesNotMatch(label, /running/);
    const headings = await page.locator('main h2').allInnerTexts();
    for (const h of ['Progress', 'When each task ran, on which worker', 'Input read per second', 'Counts']) assert.ok(headings.includes(h), `no heading ${h}: ${headings.join(', ')}`);
    for (const jargon of ['Phases', 'Throughput', 'Counters']) assert.ok(!headings.includes(jargon), `heading ${jargon}`);
  });

  test('the code editor starts from a job that runs as it is: the same counts as the built-in wordcount', async () => {
    await page.goto('/#/submit');
    await page.getByLabel('Your job module (.ts or .js)').check();
    assert.equal(await page.getByLabel('Code', { exact: true }).inputValue(), JOB_TEMPLATE);
    await page.getByLabel('words.txt').check();
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    const [mine, builtin] = await Promise.all([api(m.url, 'GET', `/jobs/${id}/output`, token), api(m.url, 'GET', `/jobs/${done}/output`, token)]);
    assert.ok(builtin.text.length > 0);
    assert.equal(mine.text, builtin.text);
  });

  test('a built-in example gets a row for each parameter it declares, required ones marked', async () => {
    await page.goto('/#/submit');
    await page.getByLabel('Example', { exact: true }).selectOption('grep');
    assert.equal(await page.getByLabel('Name 1').inputValue(), 'pattern');
    assert.equal(await page.getByLabel('Name 2').inputValue(), 'flags');
    const pattern = page.getByLabel('Value 1 (required)');
    assert.equal(await pattern.getAttribute('required'), '');
    assert.match(await page.locator('.param').first().innerText(), /the regular expression \(JavaScript syntax\) lines must match/);
    assert.equal(await page.getByLabel('Value 2', { exact: true }).getAttribute('required'), null);
    // Another example drops the empty rows grep declared.
    await page.getByLabel('Example', { exact: true }).selectOption('wordcount');
    await page.locator('.param').first().waitFor({ state: 'detached' });
    assert.equal(await page.locator('.param').count(), 0);
  });
});
