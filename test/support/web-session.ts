// A real `torpedo manager` process and Debian's chromium for a web UI test, with users signed up
// through the REST API: what each web test needs before its first page.
import type { Browser, Page } from 'playwright-core';
import { ensureWebBuild } from '../../src/manager/web-build.ts';
import { removeDir, tempDir } from '../helpers.ts';
import { launchBrowser, LAPTOP } from './browser.ts';
import { api, startManagerProcess, type ApiAnswer, type ManagerProcess } from './manager-process.ts';

export interface WebSession {
  readonly manager: ManagerProcess;
  readonly browser: Browser;
  /** The REST API as `user` (signed up by startWebSession). */
  rest(user: string, method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** `user`'s API token. */
  token(user: string): string;
  /** A page of a fresh browser context at the manager, whose errors go to `pageErrors`. */
  newPage(): Promise<Page>;
  /** Signs `user` in through the sign-in page and waits for the jobs list. */
  signIn(page: Page, user: string): Promise<void>;
  /** Uncaught errors and console errors of every page. */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** The password startWebSession gives user `name`. */
export const passwordOf = (name: string): string => `${name}-password`;

export async function startWebSession(users: readonly string[], env: Record<string, string> = {}): Promise<WebSession> {
  const home = tempDir('torpedo-web-');
  await ensureWebBuild();
  const [manager, browser] = await Promise.all([
    startManagerProcess(home, { TORPEDO_LOG: 'off', TORPEDO_ADMIN_PASSWORD: 'admin-password-1', TORPEDO_JWT_SECRET: 'web-session-test-secret-long-enough-00000', ...env }),
    launchBrowser(),
  ]);
  const tokens = new Map<string, string>();
  for (const username of users) {
    const credentials = { username, password: passwordOf(username) };
    await api(manager.url, 'POST', '/auth/register', undefined, credentials);
    tokens.set(username, (await api(manager.url, 'POST', '/auth/login', undefined, credentials)).json.token as string);
  }
  const pageErrors: string[] = [];
  return {
    manager,
    browser,
    pageErrors,
    rest: (user, method, path, body) => api(manager.url, method, path, tokens.get(user), body),
    token: (user) => tokens.get(user) ?? '',
    async newPage() {
      const context = await browser.newContext({ viewport: LAPTOP, baseURL: manager.url });
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
      });
      page.setDefaultTimeout(15_000);
      return page;
    },
    async signIn(page, user) {
      await page.goto('/#/sign-in');
      await page.getByLabel('Username').fill(user);
      await page.getByLabel('Password', { exact: true }).fill(passwordOf(user));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    },
    async close() {
      await browser.close();
      manager.child.kill('SIGTERM');
      removeDir(home);
    },
  };
}
