import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTorpedoError } from '../errors.ts';
import { LocalStorage } from './local-storage.ts';
import { S3Storage } from './s3-storage.ts';
import { isRemoteUri, parseStorageUri, storageFor } from './storage-uri.ts';

test('s3:// names a bucket and a key; a trailing / makes a prefix', () => {
  assert.deepEqual(parseStorageUri('s3://logs/2026/'), { scheme: 's3', bucket: 'logs', key: '2026/' });
  assert.deepEqual(parseStorageUri('s3://logs/app.log.gz'), { scheme: 's3', bucket: 'logs', key: 'app.log.gz' });
  assert.deepEqual(parseStorageUri('s3://logs'), { scheme: 's3', bucket: 'logs', key: '' });
  assert.deepEqual(parseStorageUri('s3://logs/'), { scheme: 's3', bucket: 'logs', key: '' });
  assert.deepEqual(parseStorageUri('S3://my.bucket-1/a b/é'), { scheme: 's3', bucket: 'my.bucket-1', key: 'a b/é' });
});

test('local paths: absolute, relative to the working directory, file:// URLs', () => {
  assert.deepEqual(parseStorageUri('/data/in/'), { scheme: 'file', path: '/data/in/' });
  assert.deepEqual(parseStorageUri('in/a.txt', '/work'), { scheme: 'file', path: '/work/in/a.txt' });
  assert.deepEqual(parseStorageUri('file:///data/in'), { scheme: 'file', path: '/data/in' });
  assert.deepEqual(parseStorageUri('/'), { scheme: 'file', path: '/' });
  assert.equal(isRemoteUri('s3://b/k'), true);
  assert.equal(isRemoteUri('/data'), false);
  assert.equal(isRemoteUri('file:///data'), false);
});

test('malformed names are TORPEDO_ERR_BAD_FLAG saying what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['s3://', /no bucket/],
    ['s3:///key', /no bucket/],
    ['s3:/bucket/key', /s3:\/\/BUCKET\/KEY/],
    ['s3://Bad_Bucket/k', /not a bucket name/],
    ['s3://ab/k', /not a bucket name/],
    ['s3://bucket//k', /starts with "\/"/],
    ['s3://bucket/a/../b', /empty, "\." or "\.\." segment/],
    ['s3://bucket/a?x=1', /query/],
    ['gs://bucket/k', /gs:\/\/ is not supported/],
    ['s3a://bucket/k', /s3a:\/\/ and s3n:\/\/ are s3:\/\//],
    ['file://host/x', /not a local file URL/],
  ];
  for (const [name, why] of cases) {
    assert.throws(() => parseStorageUri(name), (e) => isTorpedoError(e) && e.code === 'TORPEDO_ERR_BAD_FLAG' && why.test(e.message) && e.message.includes(JSON.stringify(name)), name);
  }
});

test('storageFor: one local storage rooted at /, one S3 storage per bucket and endpoint', () => {
  const local = storageFor('/data/in/');
  assert.ok(local.storage instanceof LocalStorage);
  assert.equal(local.key, 'data/in/');
  assert.equal(local.storage.uri(local.key), '/data/in/');
  const env = { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
  const a = storageFor('s3://logs/2026/', env);
  const b = storageFor('s3://logs/other', env);
  const c = storageFor('s3://results/x', env);
  assert.ok(a.storage instanceof S3Storage);
  assert.equal(a.storage, b.storage);
  assert.notEqual(a.storage, c.storage);
  assert.equal(a.key, '2026/');
  assert.equal(a.storage.uri(a.key), 's3://logs/2026/');
});
