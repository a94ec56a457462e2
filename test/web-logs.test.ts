// Attempts' logs in the web UI, in a real browser (Debian's chromium through playwright-core)
// against a real `torpedo manager` process: opened from the job page's task list and from a bar
// of the timeline, followed while the job runs, and not shown to another user.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuild } from '../src/manager/web-build.ts';
import { removeDir, ROOT, tempDir } from './helpers.ts';
import { startManagerProcess } from './support/manager-process.ts';
import { browserMissing, LAPTOP, launchBrowser, screenshot } from './support/browser.ts';

const SLOWLY = readFileSync(join(ROOT, 'test', 'jobs', 'logs-slowly.mjs'), 'utf8');

describe('attempt logs in the web UI (chromium)', { skip: browserMissing() }, () => {
  const home = tempDir('torpedo-web-logs-');
  let manager: { child: ChildProcess; url: string };
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    await ensureWebBuild();
    [manager, browser] = await Promise.all([startManagerProcess(home, { TORPEDO_LOG: 'off', TORPEDO_ADMIN_PASSWORD: 'admin-password-1', TORPEDO_JWT_SECRET: 'web-logs-test-secret-that-is-long-enough-000' }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    manager?.child.kill('SIGTERM');
    removeDir(home);
  });

  async function rest(method: string, path: string, o: { token?: string; json?: unknown; body?: string } = {}): Promise<any> {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`;
    if (o.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${manager.url}${path}`, { method, headers, body: o.json !== undefined ? JSON.stringify(o.json) : o.body });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  async function user(name: string): Promise<string> {
    await rest('POST', '/auth/register', { json: { username: name, password: `${name}-password` } });
    return (await rest('POST', '/auth/login', { json: { username: name, password: `${name}-password` } })).token as string;
  }

  async function signedIn(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: LAPTOP, baseURL: manager.url });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(20_000);
    await page.goto('/#/sign-in');
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(`${name}-password`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    return page;
  }

  async function submitSlowly(token: string, lines: number): Promise<string> {
    await rest('POST', `/datasets?name=lines-${lines}&overwrite=true`, { token, body: Array.from({ length: lines }, (_, i) => `line${i}\n`).join('') });
    return (await rest('POST', '/jobs', { token, json: { code: SLOWLY, language: 'js', inputs: [`lines-${lines}`], workers: 1, maps: 1 } })).id as string;
  }

  test("an attempt's log opens from the task list and from a bar of the timeline; another user cannot read it", async () => {
    const token = await user('iris');
    const id = await submitSlowly(token, 10);
    const page = await signedIn('iris');
    await page.goto(`/#/jobs/${id}`);
    await page.locator('.badge.status-succeeded').waitFor({ timeout: 60_000 });

    // From the task list.
    await page.getByRole('heading', { name: 'Tasks and their logs' }).waitFor();
    await page.getByRole('link', { name: 'Log of map-00000-a0 (succeeded)' }).click();
    await page.getByRole('heading', { name: 'Log of map-00000-a0' }).waitFor();
    const log = page.getByLabel('Log of map-00000-a0', { exact: true });
    await log.getByText('--- torpedo: map-00000-a0 succeeded ---').waitFor();
    const shown = await log.innerText();
    for (let i = 0; i < 10; i++) assert.match(shown, new RegExp(`^tick line${i}$`, 'm'));
    assert.match(shown, /worker \S+: map-00000-a0 done in \d+ ms/);
    await screenshot(page, 'attempt-log-laptop');

    // From the timeline: the map's bar takes the middle and right of the one worker's row (the job's first second is planning); find it by the pointer cursor.
    await page.getByRole('link', { name: `← Job ${id}` }).click();
    const canvas = page.locator('#timeline-title + .chart canvas');
    await canvas.waitFor();
    await page.waitForTimeout(300); // chart.js draws on the next frame
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box !== null);
    let hit = false;
    for (let y = box.y + 4; y < box.y + box.height && !hit; y += 4) {
      await page.mouse.move(box.x + box.width * 0.7, y);
      hit = (await canvas.evaluate((c) => (c as unknown as { style: { cursor: string } }).style.cursor)) === 'pointer';
    }
    assert.ok(hit, 'a bar of the timeline is under the pointer somewhere on its row');
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForURL(new RegExp(`#/jobs/${id}/logs/map-00000-a0$`));
    await page.getByLabel('Log of map-00000-a0', { exact: true }).getByText('tick line9').waitFor();

    // Another user: no log, and none of its text.
    await user('oscar');
    const other = await signedIn('oscar');
    await other.goto(`/#/jobs/${id}/logs/map-00000-a0`);
    await other.getByText('This attempt has no log').waitFor();
    assert.doesNotMatch(await other.locator('main').innerText(), /tick line/);
    assert.deepEqual(pageErrors, []);
  });

  test("a running attempt's log grows on the page until the attempt ends", async () => {
    const token = await user('june');
    const id = await submitSlowly(token, 30);
    for (let i = 0; ; i++) {
      const job = await rest('GET', `/jobs/${id}`, { token });
      if (job.tasks.some((t: { attempts: unknown[] }) => t.attempts.length > 0)) break;
      assert.ok(i < 300, 'the job started its map');
      await new Promise((r) => setTimeout(r, 50));
    }
    const page = await signedIn('june');
    await page.goto(`/#/jobs/${id}/logs/map-00000-a0`);
    const log = page.getByLabel('Log of map-00000-a0', { exact: true });
    await log.waitFor();
    assert.doesNotMatch(await log.innerText(), /succeeded ---/, 'opened while the attempt runs');
    await log.getByText('--- torpedo: map-00000-a0 succeeded ---').waitFor({ timeout: 30_000 });
    const shown = await log.innerText();
    for (let i = 0; i < 30; i++) assert.match(shown, new RegExp(`^tick line${i}$`, 'm'), `line ${i} once`);
    assert.equal(shown.match(/^tick line0$/gm)?.length, 1, 'nothing is shown twice');
    assert.deepEqual(pageErrors, []);
  });
});
