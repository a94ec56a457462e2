// The web UI in a real browser (Debian's chromium through playwright-core) against a real
// `torpedo manager` process: accounts, datasets, word count from submit to output, live job pages,
// roles, other users' jobs, code errors with file:line, an expired session, sign-out. Screenshots
// of every main page, laptop- and phone-sized, go to test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureWebBuild } from '../src/manager/web-build.ts';
import { formatBytes } from '../src/protocol/units.ts';
import { removeDir, ROOT, tempDir } from './helpers.ts';
import { startManagerProcess } from './support/manager-process.ts';
import { browserMissing, LAPTOP, launchBrowser, PHONE, screenshot } from './support/browser.ts';

const ADMIN_PASSWORD = 'admin-password-1';

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Word count that sleeps 20 ms every 10 lines: about 6 s for the corpus on two workers, long enough to watch. */
const SLOW_WORDCOUNT = `let lines = 0;
export default {
  async map(line, emit) {
    if (++lines % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const w of line.toLowerCase().split(/[^a-z]+/)) if (w) emit(w, 1);
  },
  reduce(word, counts, emit) {
    let n = 0;
    for (const c of counts) n += c;
    emit(word, n);
  },
};
`;

/** Words with known counts, so that the output can be checked against a sequential count (the oracle). */
function corpus(): string {
  const words = ['Alpha', 'bravo', 'charlie', 'delta', 'echo', 'lighthouse', "o'clock", 'zulu_9'];
  const lines: string[] = [];
  let x = 11;
  for (let i = 0; i < 6000; i++) {
    const line: string[] = [];
    for (let j = 0; j < 3 + (i % 7); j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      line.push(words[(x >>> 16) % words.length]!);
    }
    lines.push(line.join(i % 3 === 0 ? ', ' : ' '));
  }
  return `${lines.join('\n')}\n`;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sequential oracle: word count as examples/wordcount.ts defines it. */
function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of text.match(/[\p{L}\p{Nd}_']+/gu) ?? []) counts.set(w.toLowerCase(), (counts.get(w.toLowerCase()) ?? 0) + 1);
  return counts;
}

describe('web UI (chromium)', { skip: browserMissing() }, () => {
  const home = tempDir('torpedo-web-');
  let manager: Running;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Errors the pages logged or threw; none is expected (but refused requests log "Failed to load resource"). */
  const pageErrors: string[] = [];
  const text = corpus();
  const oracle = countWords(text);
  let adaJob = '';

  before(async () => {
    await ensureWebBuild();
    [manager, browser] = await Promise.all([startManagerProcess(home, { TORPEDO_LOG: 'off', TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_JWT_SECRET: 'web-ui-test-secret-that-is-long-enough-0000' }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    manager?.child.kill('SIGTERM');
    removeDir(home);
  });

  async function newPage(viewport: { width: number; height: number } = LAPTOP): Promise<Page> {
    const context = await browser.newContext({ viewport, acceptDownloads: true, baseURL: manager.url });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
    });
    page.setDefaultTimeout(15_000);
    return page;
  }

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto('/#/sign-in');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  }

  /** Screenshots of the current page at both sizes. */
  async function shoot(page: Page, name: string): Promise<void> {
    await page.setViewportSize(LAPTOP);
    await screenshot(page, `${name}-laptop`);
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(150); // charts resize on the next frame
    await screenshot(page, `${name}-phone`);
    await page.setViewportSize(LAPTOP);
  }

  test('create an account, upload a dataset, run word count live to succeeded, preview and download the output', async () => {
    const page = await newPage();
    await page.goto('/');
    // Signed out, every page leads to sign-in.
    await page.getByRole('heading', { name: 'Sign in to torpedo' }).waitFor();
    await shoot(page, 'sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password', { exact: true }).fill('ada-password');
    await page.getByLabel('Password again').fill('ada-password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.getByText('No jobs yet').waitFor();

    // Upload with the file picker; the list shows it with its size, and the preview its first lines.
    await page.getByRole('link', { name: 'Datasets' }).click();
    await page.getByLabel('File').setInputFiles({ name: 'words.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    assert.equal(await page.getByLabel('Dataset name').inputValue(), 'words.txt');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText(/Uploaded words\.txt \(\d+(\.\d)? KiB\)/).waitFor();
    const row = page.locator('tr', { has: page.getByRole('cell', { name: 'words.txt', exact: true }) });
    assert.match(await row.innerText(), new RegExp(`\\b${formatBytes(text.length).replace('.', '\\.')}\\b`));
    await page.getByRole('button', { name: 'Preview words.txt' }).click();
    const preview = page.locator('figure.preview pre');
    await preview.waitFor();
    assert.equal(await preview.innerText(), text.split('\n').slice(0, 10).join('\n'));
    // A second dataset, deleted through the confirmation dialog.
    await page.getByLabel('File').setInputFiles({ name: 'scratch data.txt', mimeType: 'text/plain', buffer: Buffer.from('one\ntwo\n') });
    assert.equal(await page.getByLabel('Dataset name').inputValue(), 'scratch-data.txt');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('cell', { name: 'scratch-data.txt', exact: true }).waitFor();
    await shoot(page, 'datasets');
    await page.getByRole('button', { name: 'Delete scratch-data.txt' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete scratch-data.txt?' });
    await dialog.waitFor();
    await screenshot(page, 'datasets-delete-laptop');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: 'scratch-data.txt', exact: true }).waitFor({ state: 'detached' });

    // Submit word count; the job page follows it to succeeded.
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('Example', { exact: true }).selectOption('wordcount');
    await page.getByLabel('words.txt').check();
    await page.getByLabel('Reducers').fill('2');
    await page.getByLabel('By number of map tasks').check();
    await page.getByLabel('Map tasks', { exact: true }).fill('4');
    await page.getByLabel('Workers').fill('3');
    await shoot(page, 'submit');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    adaJob = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole('progressbar', { name: 'Map phase' }).getAttribute('aria-valuenow'), '100');
    assert.equal(await page.getByRole('progressbar', { name: 'Reduce phase' }).getAttribute('aria-valuenow'), '100');
    // The charts are drawn (chart.js canvases), the counters listed.
    await page.locator('#timeline-title + .chart canvas').waitFor();
    assert.match((await page.locator('#timeline-title + .chart canvas').getAttribute('aria-label')) ?? '', /Timeline of \d+ task attempts on \d workers: \d+ succeeded/);
    await page.locator('#throughput-title + .chart canvas').waitFor();
    assert.match(await page.locator('table.counters').first().innerText(), /map input records\s+6,000/);

    // The output preview shows a known count; the download is the whole output.
    const lighthouse = `lighthouse\t${oracle.get('lighthouse')}`;
    await page.locator('.part pre', { hasText: lighthouse }).waitFor();
    await page.waitForTimeout(300); // let the charts settle for the screenshot
    await shoot(page, 'job-succeeded');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download output' }).click()]);
    assert.equal(download.suggestedFilename(), `${adaJob}.txt`);
    const output = readFileSync((await download.path())!, 'utf8');
    const got = new Map(output.trim().split('\n').map((l) => [l.split('\t')[0]!, Number(l.split('\t')[1])] as const));
    assert.deepEqual(got, oracle);

    // The list shows it, succeeded, with a duration.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const listed = page.locator(`tr[data-job="${adaJob}"]`);
    await listed.waitFor();
    assert.match(await listed.innerText(), /wordcount[\s\S]*succeeded[\s\S]*\d(\.\d)? s/);
  });

  test('a streaming job: a Python mapper and reducer sent as files give the same counts', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('A mapper and a reducer in any language').check();
    await page.getByLabel('Program files').setInputFiles(['mapper.py', 'reducer.py'].map((f) => join(ROOT, 'examples', 'streaming', f)));
    // The scripts fill in their commands.
    await until(async () => (await page.getByLabel('Mapper command').inputValue()) === 'python3 mapper.py', 5000);
    await until(async () => (await page.getByLabel('Reducer command').inputValue()) === 'python3 reducer.py', 5000);
    await page.getByLabel('Combiner command (optional)').fill('python3 reducer.py');
    await page.getByLabel('words.txt').check();
    await shoot(page, 'submit-streaming');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    assert.match(await page.locator('.facts').innerText(), /map: python3 mapper\.py\s+combine: python3 reducer\.py\s+reduce: python3 reducer\.py\s+files: mapper\.py, reducer\.py/);
    await page.locator('.part pre', { hasText: `lighthouse\t${oracle.get('lighthouse')}` }).waitFor();
    await page.locator('.part pre', { hasText: `o'clock\t${oracle.get("o'clock")}` }).waitFor();
  });

  test('a running job updates live, then can be cancelled from its page', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('Your job module (.ts or .js)').check();
    await page.getByLabel('Job module file').setInputFiles({ name: 'slow-wordcount.mjs', mimeType: 'text/javascript', buffer: Buffer.from(SLOW_WORDCOUNT) });
    assert.equal(await page.getByLabel('Language', { exact: true }).inputValue(), 'js');
    await page.getByLabel('words.txt').check();
    await page.getByLabel('By number of map tasks').check();
    await page.getByLabel('Map tasks', { exact: true }).fill('12');
    await page.getByLabel('Workers').fill('2');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    // Progress events move the map bar while the job runs (mapBytes grows between samples).
    const map = page.getByRole('progressbar', { name: 'Map phase' });
    await until(async () => Number(await map.getAttribute('aria-valuenow')) > 0, 30_000);
    await page.locator('#timeline-title + .chart canvas').waitFor();
    assert.equal(await page.locator('.badge.status-running').count(), 1, 'the job ended before the test could watch it');
    await shoot(page, 'job-running');
    // The jobs list follows it too.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.locator(`tr[data-job="${id}"] .badge.status-running`).waitFor();
    await shoot(page, 'jobs');
    await page.locator(`tr[data-job="${id}"] a`).click();
    await map.waitFor();
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('dialog', { name: 'Cancel this job?' }).getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.badge.status-cancelled').waitFor();
    await page.getByRole('heading', { name: 'Cancelled', exact: true }).waitFor();
    assert.match(await page.locator('.job-error').innerText(), /cancelled by ada/);
  });

  test('the timeline shows failed, killed and backup attempts; a job whose code throws shows the user’s stack trace', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    const lines = Array.from({ length: 400 }, (_, i) => (i === 50 ? 'FLAKY' : i === 250 ? 'SLOW' : i === 350 ? 'POISON' : `line ${i}`));
    await page.getByLabel('File').setInputFiles({ name: 'events.txt', mimeType: 'text/plain', buffer: Buffer.from(`${lines.join('\n')}\n`) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByRole('cell', { name: 'events.txt', exact: true }).waitFor();

    const submitCode = async (code: string): Promise<string> => {
      await page.getByRole('link', { name: 'Submit', exact: true }).click();
      await page.getByLabel('Your job module (.ts or .js)').check();
      await page.getByLabel('Code', { exact: true }).fill(code);
      await page.getByLabel('Language', { exact: true }).selectOption('js');
      await page.getByLabel('events.txt').check();
      await page.getByLabel('By number of map tasks').check();
      await page.getByLabel('Map tasks', { exact: true }).fill('4');
      await page.getByLabel('Workers').fill('3');
      await page.getByRole('button', { name: 'Submit job' }).click();
      await page.waitForURL(/#\/jobs\/job-/);
      return decodeURIComponent(page.url().split('#/jobs/')[1]!);
    };
    // The task with FLAKY fails once; the one with SLOW straggles on its first attempt until a backup beats it.
    await submitCode(`export default {
  async map(line, emit, ctx) {
    if (line === 'FLAKY' && ctx.attempt === 0) throw new Error('flaky once');
    if (line === 'SLOW' && ctx.attempt === 0) await new Promise((resolve) => setTimeout(resolve, 8000));
    emit(line.split(' ')[0], 1);
  },
  reduce(key, values, emit) { let n = 0; for (const v of values) n += v; emit(key, n); },
};
`);
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    const timeline = (await page.locator('#timeline-title + .chart canvas').getAttribute('aria-label')) ?? '';
    assert.match(timeline, /\b1 failed\b/);
    assert.match(timeline, /\b1 killed\b/);
    assert.match(timeline, /1 backup attempts/);
    await page.waitForTimeout(300);
    await shoot(page, 'job-backups');

    // Every attempt of the task with POISON throws: the job fails, and the page shows where.
    await submitCode(`export default {
  map(line, emit) {
    if (line === 'POISON') throw new Error('poisoned record: ' + line);
    emit(line, 1);
  },
  reduce(key, values, emit) { emit(key, 1); },
};
`);
    await page.locator('.badge.status-failed').waitFor({ timeout: 60_000 });
    const error = page.locator('.job-error');
    assert.match(await error.innerText(), /poisoned record: POISON/);
    assert.match(await error.locator('pre.stack').innerText(), /job\.mjs:3:\d+/);
    await shoot(page, 'job-failed');
  });

  test('a job module with a syntax error is refused with file:line on the submit page', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('Your job module (.ts or .js)').check();
    await page.getByLabel('Job module file').setInputFiles(join(ROOT, 'test', 'jobs', 'syntax-error.ts'));
    await page.getByLabel('words.txt').check();
    await page.getByRole('button', { name: 'Submit job' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    assert.match(await error.locator('pre').innerText(), /job\.ts:5:\d+/);
    assert.match(await error.innerText(), /TORPEDO_ERR_JOB_SYNTAX/);
    await page.getByText('job.ts is the code above, from syntax-error.ts.').waitFor();
    await shoot(page, 'submit-syntax-error');
  });

  test('an admin grants a role and the user sees the new capability; nobody sees another user’s job', async () => {
    const admin = await newPage();
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.getByText('Create a user').click();
    await admin.getByLabel('Username').fill('carol');
    await admin.getByLabel('Password').fill('carol-password');
    for (const role of ['submit_jobs', 'write_storage']) await admin.locator(`#new-role-${role}`).uncheck();
    await admin.getByRole('button', { name: 'Create user' }).click();
    await admin.getByText('Created carol.').waitFor();
    assert.match(await admin.locator('tr[data-user="carol"]').innerText(), /read_storage[\s\S]*track_jobs|track_jobs[\s\S]*read_storage/);

    const carol = await newPage();
    await signIn(carol, 'carol', 'carol-password');
    assert.equal(await carol.getByRole('link', { name: 'Submit', exact: true }).count(), 0);
    await carol.goto('/#/submit');
    await carol.getByRole('heading', { name: 'Not allowed' }).waitFor();
    // ada's job is not carol's: the page says so rather than showing it.
    await carol.goto(`/#/jobs/${encodeURIComponent(adaJob)}`);
    await carol.getByRole('heading', { name: 'Job not found' }).waitFor();
    assert.equal(await carol.getByText('wordcount').count(), 0);
    await screenshot(carol, 'job-not-found-laptop');

    await admin.getByRole('button', { name: 'Edit carol' }).click();
    await admin.locator('#edit-carol-role-submit_jobs').check();
    await admin.getByRole('button', { name: 'Save carol' }).click();
    await admin.locator('tr[data-user="carol"]', { hasText: 'submit_jobs' }).waitFor();
    await shoot(admin, 'users');

    // Roles are read at every navigation: the next click shows the new capability.
    await carol.getByRole('link', { name: 'Jobs', exact: true }).click();
    await carol.getByRole('link', { name: 'Submit', exact: true }).click();
    await carol.getByRole('heading', { name: 'Submit a job' }).waitFor();
    await carol.getByRole('button', { name: 'Submit job' }).waitFor();

    // The admin sees everyone's jobs, with their owners, and may open ada's.
    await admin.getByRole('link', { name: 'Jobs', exact: true }).click();
    await admin.locator(`tr[data-job="${adaJob}"]`, { hasText: 'ada' }).waitFor();
    await admin.goto(`/#/jobs/${encodeURIComponent(adaJob)}`);
    await admin.locator('.badge.status-succeeded').waitFor();
  });

  test('an expired session goes back to sign-in with a message, and returns to the page after signing in', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    // (Browser code as strings: the tests' tsconfig has no DOM types.)
    await page.evaluate(`localStorage.setItem('torpedo.session', JSON.stringify({ ...JSON.parse(localStorage.getItem('torpedo.session')), token: 'not-a-valid-token' }))`);
    await page.goto('/#/datasets');
    await page.reload();
    await page.getByText('Your session expired, sign in again.').waitFor();
    assert.match(page.url(), /#\/sign-in\?next=%2Fdatasets$/);
    await shoot(page, 'session-expired');
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password', { exact: true }).fill('ada-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Datasets', exact: true }).waitFor();
  });

  test('sign-out ends the session on the manager too', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    const token = await page.evaluate<string>(`JSON.parse(localStorage.getItem('torpedo.session')).token`);
    const me = async (): Promise<number> => (await fetch(`${manager.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    assert.equal(await me(), 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You signed out.').waitFor();
    assert.equal(await page.evaluate(`localStorage.getItem('torpedo.session')`), null);
    assert.equal(await me(), 401);
    // Back needs a new sign-in.
    await page.goto('/#/jobs');
    await page.getByRole('heading', { name: 'Sign in to torpedo' }).waitFor();
  });

  test('an upload shows its progress and speed, and can be cancelled', async () => {
    const page = await newPage();
    await signIn(page, 'ada', 'ada-password');
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    // Throttle the page's uploads to 1 MB/s (Chromium's network emulation) so that there is progress to see.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1_000_000 });
    await page.getByLabel('File').setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(6_000_000, 'all work and no play\n') });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const bar = page.getByRole('progressbar', { name: 'Upload progress' });
    await until(async () => Number(await bar.getAttribute('aria-valuenow')) >= 10, 20_000);
    assert.match((await bar.getAttribute('aria-valuetext')) ?? '', /^[\d.]+ (KiB|MiB) of 5\.7 MiB · [\d.]+ (KiB|MiB)\/s · [\d.]+ s left$/);
    await shoot(page, 'datasets-uploading');
    await page.getByRole('button', { name: 'Cancel upload' }).click();
    await page.getByText('upload cancelled').waitFor();
    await bar.waitFor({ state: 'detached' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    // Nothing of the cancelled upload is listed.
    await page.reload();
    await page.getByRole('cell', { name: 'words.txt', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'big.txt', exact: true }).count(), 0);
  });

  test('keyboard only: sign in, reach a page through the navigation, open and dismiss a dialog', async () => {
    const page = await newPage();
    await page.goto('/#/sign-in');
    const focused = (): Promise<string> => page.evaluate<string>(`document.activeElement?.id || document.activeElement?.textContent || ''`);
    const tabTo = async (want: string, key = 'Tab'): Promise<void> => {
      for (let i = 0; i < 12 && (await focused()) !== want; i++) await page.keyboard.press(key);
      assert.equal(await focused(), want);
    };
    await tabTo('username');
    await page.keyboard.type('ada');
    await page.keyboard.press('Tab');
    await page.keyboard.type('ada-password');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    // After a navigation the page heading has focus; the navigation is just before it.
    await tabTo('Datasets', 'Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Datasets', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete words.txt' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Delete words.txt?' });
    await dialog.waitFor();
    assert.equal(await focused(), 'Keep', 'the dialog takes the focus, on its safe button');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('cell', { name: 'words.txt', exact: true }).waitFor();
  });

  test('the pages logged no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
