// Job history and the queue in the web UI, in a real browser (Debian's chromium through
// playwright-core) against a real `torpedo manager` process that runs one job at a time: a queued
// job shows its place and why it waits, a named job is found by the list's filter, run again and
// deleted with its output; admins see the workers of running jobs with CPU and memory.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuild } from '../src/manager/web-build.ts';
import { removeDir, ROOT, tempDir } from './helpers.ts';
import { startManagerProcess } from './support/manager-process.ts';
import { browserMissing, launchBrowser, screenshot } from './support/browser.ts';

const ADMIN_PASSWORD = 'admin-password-1';
const SLOW = readFileSync(join(ROOT, 'test', 'jobs', 'slow-map.mjs'), 'utf8');
const LINES = Array.from({ length: 300 }, (_, i) => `line ${i}`).join('\n') + '\n';

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('web UI: job history and the queue (chromium)', { skip: browserMissing() }, () => {
  const home = tempDir('torpedo-web-history-');
  let manager: { child: ChildProcess; url: string };
  let browser: Browser;
  const pageErrors: string[] = [];
  const tokens = new Map<string, string>();

  /** The REST API as user `as` (eve unless told), to set the scene quickly. */
  async function rest(method: string, path: string, body?: unknown, raw?: string, as = 'eve'): Promise<any> {
    const res = await fetch(`${manager.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens.get(as)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: manager.url });
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

  before(async () => {
    await ensureWebBuild();
    [manager, browser] = await Promise.all([startManagerProcess(home, { TORPEDO_LOG: 'off', TORPEDO_ADMIN_PASSWORD: ADMIN_PASSWORD, TORPEDO_JWT_SECRET: 'web-history-test-secret-long-enough-000000', TORPEDO_MAX_RUNNING_JOBS: '1' }), launchBrowser()]);
    for (const username of ['eve', 'bob']) {
      const credentials = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: `${username}-password` }) };
      assert.equal((await fetch(`${manager.url}/auth/register`, credentials)).status, 201);
      tokens.set(username, ((await (await fetch(`${manager.url}/auth/login`, credentials)).json()) as { token: string }).token);
      assert.equal((await rest('POST', '/datasets?name=lines', undefined, LINES, username)).status, 201);
    }
  });
  after(async () => {
    await browser?.close();
    manager?.child.kill('SIGTERM');
    removeDir(home);
  });

  test('a queued job shows its place in the queue and why it waits, in the list and on its page; admins see the running job’s workers', async () => {
    // Bob's job takes the one job slot; eve's waits for it.
    const slow = await rest('POST', '/jobs', { name: 'blocker', code: SLOW, language: 'js', inputs: ['lines'], workers: 1 }, undefined, 'bob');
    assert.equal(slow.status, 201);
    await until(async () => (await rest('GET', `/jobs/${slow.json.id}`, undefined, undefined, 'bob')).json.status === 'running', 30_000);
    const waiting = await rest('POST', '/jobs', { name: 'waits its turn', example: 'wordcount', inputs: ['lines'] });

    const page = await newPage();
    await signIn(page, 'eve', 'eve-password');
    const row = page.locator(`tr[data-job="${waiting.json.id}"]`);
    await row.locator('.queue-place', { hasText: '#1 in the queue' }).waitFor();
    assert.match((await row.locator('.queue-place').getAttribute('title')) ?? '', /1st in the queue; waits for a running job to end/);
    await row.getByRole('link', { name: 'waits its turn' }).click();
    const place = page.locator('p.queue-place');
    await place.waitFor();
    assert.match(await place.innerText(), /^Waiting: 1st in the queue; waits for a running job to end: every job slot of the manager is taken\.$/);
    await screenshot(page, 'job-queued-laptop');

    // An admin's cluster page shows the running job's worker, with CPU time and RSS from its heartbeats.
    const admin = await newPage();
    await signIn(admin, 'admin', ADMIN_PASSWORD);
    await admin.getByRole('link', { name: 'Cluster', exact: true }).click();
    await admin.getByRole('heading', { name: 'Cluster', exact: true }).waitFor();
    const worker = admin.locator('table.cluster tbody tr', { hasText: 'blocker' }).first();
    await until(async () => /MiB|MB/.test(await worker.innerText().catch(() => '')), 20_000);
    assert.match(await worker.innerText(), /bob/);
    await screenshot(admin, 'cluster-laptop');

    // Once the blocker is cancelled, the waiting job starts and its page stops showing a place.
    assert.equal((await rest('POST', `/jobs/${slow.json.id}/cancel`, undefined, undefined, 'bob')).json.status, 'cancelled');
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    assert.equal(await place.count(), 0);
  });

  test('a named job is found by the list’s filter, run again, and deleted with its output', async () => {
    const page = await newPage();
    await signIn(page, 'eve', 'eve-password');
    await page.getByRole('link', { name: 'Submit', exact: true }).click();
    await page.getByLabel('Name (optional)').fill('Quarterly count');
    await page.getByLabel('lines').check();
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job-/);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.getByRole('heading', { name: /Quarterly count/ }).waitFor();
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });

    // The list's filter by name finds it (and only it), ignoring case.
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('quarterly');
    await until(async () => (await page.locator('tbody tr').count()) === 1, 10_000);
    await page.locator(`tr[data-job="${id}"]`).waitFor();
    await page.getByLabel('Status').selectOption('running');
    await page.getByText('No jobs match.').waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await page.locator(`tr[data-job="${id}"]`).getByRole('link', { name: 'Quarterly count' }).click();

    // Run again: a new job, same name and inputs.
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.waitForURL((u) => u.hash.startsWith('#/jobs/job-') && !u.hash.endsWith(id));
    const again = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.getByRole('heading', { name: /Quarterly count/ }).waitFor();
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });
    const rerun = (await rest('GET', `/jobs/${again}`)).json;
    assert.deepEqual([rerun.name, rerun.inputs], ['Quarterly count', ['lines']]);

    // Delete the first one from its page, through the confirmation dialog.
    assert.ok(existsSync(join(home, 'jobs', id, 'output')));
    await page.goto(`/#/jobs/${encodeURIComponent(id)}`);
    await page.getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('dialog', { name: 'Delete this job?' }).getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.locator(`tr[data-job="${again}"]`).waitFor();
    assert.equal(await page.locator(`tr[data-job="${id}"]`).count(), 0);
    assert.equal((await rest('GET', `/jobs/${id}`)).status, 404);
    assert.equal(existsSync(join(home, 'jobs', id)), false, 'its output is gone with it');
  });

  test('the pages logged no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
