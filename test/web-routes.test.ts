// How the manager serves the web UI (src/manager/routes/ui-routes.ts), in process: index.html at `/`
// with a strict content security policy, hashed assets cached for good, nothing outside the build,
// the settings the sign-in page reads, and none of it in the API's OpenAPI description.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureWebBuild, webSourceKey, WEB_CACHE_DIR } from '../src/manager/web-build.ts';
import { startTestManager, type TestManager } from './support/manager-harness.ts';

/** GET with the path sent exactly as given. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web UI routes', () => {
  let m: TestManager;
  before(async () => {
    await ensureWebBuild();
    m = await startTestManager('pglite', { env: { TORPEDO_ALLOW_REGISTRATION: 'false', TORPEDO_MAX_UPLOAD_BYTES: '12345' } });
  });
  after(async () => {
    await m?.close();
  });

  test('the build is keyed by the sources and reused', async () => {
    const dir = await ensureWebBuild();
    assert.equal(dir, join(WEB_CACHE_DIR, webSourceKey()));
    assert.ok(existsSync(join(dir, 'index.html')));
    const started = performance.now();
    assert.equal(await ensureWebBuild(), dir);
    assert.ok(performance.now() - started < 500, 'checking a fresh build should be cheap');
  });

  test('/ serves index.html without a token, with a content security policy', async () => {
    const res = await m.call('GET', '/');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<div id="app">/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /connect-src 'self'/);
    assert.equal((await m.call('GET', '/index.html')).body, res.body);
  });

  test('assets are served with long caching; nothing outside the build is', async () => {
    const index = (await m.call('GET', '/')).body;
    const scripts = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((x) => x[1]!);
    assert.ok(scripts.some((s) => s.endsWith('.js')) && scripts.some((s) => s.endsWith('.css')), index);
    for (const path of scripts) {
      const res = await m.call('GET', path);
      assert.equal(res.status, 200, path);
      assert.match(String(res.headers['cache-control']), /immutable/);
      assert.match(String(res.headers['content-type']), path.endsWith('.js') ? /javascript/ : /text\/css/);
    }
    const missing = await m.call('GET', '/assets/nothing-here.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'TORPEDO_ERR_NOT_FOUND');
    // Dots and slashes, plain or encoded, do not leave assets/. Sent over a real socket: inject() and
    // fetch() would normalise the paths first.
    const url = await m.manager.app.listen({ host: '127.0.0.1', port: 0 });
    const tricks = ['/assets/../index.html', '/assets/%2e%2e/index.html', '/assets/..%2f.complete', '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json', '/assets/..%5c..%5cpackage.json'];
    for (const trick of tricks) {
      const res = await rawGet(url, trick);
      assert.ok(res.status >= 400 && res.status < 500, `${trick}: ${res.status}`);
      assert.doesNotMatch(res.body, /<div id="app">|"name": "torpedo"|^\d{4}-/);
    }
  });

  test('/ui-settings.json says whether accounts can be created, and the upload limit', async () => {
    const res = await m.call('GET', '/ui-settings.json');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { allowRegistration: false, maxUploadBytes: 12345 });
  });

  test('the UI routes are not part of the API description', async () => {
    const paths = Object.keys((await m.call('GET', '/openapi.json')).json.paths);
    assert.ok(paths.includes('/jobs'));
    for (const p of ['/', '/index.html', '/assets/*', '/ui-settings.json']) assert.ok(!paths.includes(p), p);
  });
});
