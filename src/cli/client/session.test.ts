import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { saveCredentials } from './credentials.ts';
import { chooseServer, DEFAULT_SERVER, openClient, serverUrl } from './session.ts';

const dir = mkdtempSync(join(tmpdir(), 'torpedo-session-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('serverUrl', () => {
  it('normalises to http(s) without a trailing slash, keeping a path prefix', () => {
    assert.equal(serverUrl('http://127.0.0.1:7777/'), 'http://127.0.0.1:7777');
    assert.equal(serverUrl(' https://EXAMPLE.com/torpedo/ '), 'https://example.com/torpedo');
  });

  it('refuses what is not a manager URL', () => {
    for (const bad of ['localhost:7777', '127.0.0.1', 'ftp://x', '', 'http://x/?a=1']) {
      assert.throws(() => serverUrl(bad), /TORPEDO_ERR_BAD_FLAG|not a manager URL|query/, bad);
    }
  });
});

describe('openClient', () => {
  const env = { TORPEDO_CONFIG_DIR: join(dir, 'cfg') };
  const saved = { server: 'http://10.0.0.1:7777', username: 'a', token: 't', expiresAt: '2030-01-01T00:00:00Z' };

  it('chooses --server, else the saved server, else $TORPEDO_SERVER, else the default', () => {
    assert.equal(chooseServer(undefined, undefined, {}), DEFAULT_SERVER);
    assert.equal(chooseServer(undefined, undefined, { TORPEDO_SERVER: 'http://env:1/' }), 'http://env:1');
    assert.equal(chooseServer(undefined, saved, { TORPEDO_SERVER: 'http://env:1' }), 'http://10.0.0.1:7777');
    assert.equal(chooseServer('http://flag:2', saved, { TORPEDO_SERVER: 'http://env:1' }), 'http://flag:2');
  });

  it('sends the saved token only to the manager that issued it', () => {
    saveCredentials(saved, env);
    assert.equal(openClient(undefined, env).authenticated, true);
    assert.equal(openClient('http://10.0.0.1:7777/', env).authenticated, true);
    assert.equal(openClient('http://evil.example:7777', env).authenticated, false);
  });
});
