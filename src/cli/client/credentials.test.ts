import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { credentialsFile, deleteCredentials, deviceTokensFile, loadCredentials, loadDeviceToken, saveCredentials, saveDeviceToken, type Credentials } from './credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'torpedo-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE: Credentials = { server: 'http://127.0.0.1:7777', username: 'alice', token: 'eyJ.x.y', expiresAt: '2030-01-01T00:00:00.000Z' };

describe('credentialsFile', () => {
  it('prefers TORPEDO_CONFIG_DIR, then XDG_CONFIG_HOME/torpedo, then ~/.config/torpedo', () => {
    assert.equal(credentialsFile({ TORPEDO_CONFIG_DIR: '/a', XDG_CONFIG_HOME: '/b' }), '/a/credentials.json');
    assert.equal(credentialsFile({ XDG_CONFIG_HOME: '/b' }), '/b/torpedo/credentials.json');
    assert.equal(credentialsFile({}), join(homedir(), '.config', 'torpedo', 'credentials.json'));
    // An empty variable is unset, as in most tools (XDG_CONFIG_HOME= is a common way to clear it).
    assert.equal(credentialsFile({ TORPEDO_CONFIG_DIR: '', XDG_CONFIG_HOME: '' }), join(homedir(), '.config', 'torpedo', 'credentials.json'));
  });
});

describe('saveCredentials', () => {
  it('creates the directory 0700 and the file 0600, and reads back what it wrote', () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    const file = saveCredentials(SAMPLE, env);
    assert.equal(file, join(dir, 'xdg', 'torpedo', 'credentials.json'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'xdg', 'torpedo')).mode & 0o777, 0o700);
    assert.deepEqual(loadCredentials(env), SAMPLE);
  });

  it('is 0600 even under a permissive umask, and replaces an old file whole', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'umask') };
    const old = process.umask(0);
    try {
      saveCredentials(SAMPLE, env);
      saveCredentials({ ...SAMPLE, token: 'second' }, env);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(credentialsFile(env)).mode & 0o777, 0o600);
    assert.equal(loadCredentials(env)?.token, 'second');
    assert.deepEqual(readdirSync(join(dir, 'umask')), ['credentials.json'], 'no temp file left behind');
  });
});

describe('loadCredentials', () => {
  it('is undefined without a file, and delete says whether there was one', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'none') };
    assert.equal(loadCredentials(env), undefined);
    assert.equal(deleteCredentials(env), false);
    saveCredentials(SAMPLE, env);
    assert.equal(deleteCredentials(env), true);
    assert.equal(existsSync(credentialsFile(env)), false);
  });

  it('ignores a file that is not credentials, with a warning', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'bad') };
    saveCredentials(SAMPLE, env);
    const warnings: string[] = [];
    for (const text of ['not json', '{"server":"x"}', '[]', 'null', JSON.stringify({ ...SAMPLE, token: 7 })]) {
      writeFileSync(credentialsFile(env), text);
      assert.equal(loadCredentials(env, (w) => warnings.push(w)), undefined, text);
    }
    assert.equal(warnings.length, 5);
    assert.match(warnings[0] ?? '', /not a credentials file/);
  });

  it('warns when others can read the token', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'loose') };
    saveCredentials(SAMPLE, env);
    chmodSync(credentialsFile(env), 0o644);
    const warnings: string[] = [];
    assert.deepEqual(loadCredentials(env, (w) => warnings.push(w)), SAMPLE);
    assert.match(warnings.join('\n'), /can be read by other users; run chmod 600/);
  });
});

describe('device tokens', () => {
  it('are kept per server and username (regardless of case), 0600, and outlive the credentials', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'devices') };
    assert.equal(loadDeviceToken('http://a:7777', 'alice', env), undefined);
    saveDeviceToken('http://a:7777', 'Alice', 'device-a', env);
    saveDeviceToken('http://a:7777', 'bob', 'device-b', env);
    saveDeviceToken('http://b:7777', 'alice', 'device-c', env);
    assert.equal(loadDeviceToken('http://a:7777', 'alice', env), 'device-a');
    assert.equal(loadDeviceToken('http://a:7777', 'ＡＬＩＣＥ', env), 'device-a');
    assert.equal(loadDeviceToken('http://a:7777', 'bob', env), 'device-b');
    assert.equal(loadDeviceToken('http://b:7777', 'alice', env), 'device-c');
    saveDeviceToken('http://a:7777', 'alice', 'device-a2', env);
    assert.equal(loadDeviceToken('http://a:7777', 'alice', env), 'device-a2');
    assert.equal(statSync(deviceTokensFile(env)).mode & 0o777, 0o600);
    saveCredentials(SAMPLE, env);
    deleteCredentials(env);
    assert.equal(loadDeviceToken('http://a:7777', 'alice', env), 'device-a2');
  });

  it('a damaged file counts as none, and the next save replaces it', () => {
    const env = { TORPEDO_CONFIG_DIR: join(dir, 'devices-bad') };
    saveDeviceToken('http://a:7777', 'alice', 'device-a', env);
    for (const text of ['not json', '[]', 'null', '{"http://a:7777": 7}', '{"http://a:7777": {"alice": 7}}']) {
      writeFileSync(deviceTokensFile(env), text);
      assert.equal(loadDeviceToken('http://a:7777', 'alice', env), undefined, text);
    }
    saveDeviceToken('http://a:7777', 'alice', 'device-b', env);
    assert.equal(loadDeviceToken('http://a:7777', 'alice', env), 'device-b');
  });
});
