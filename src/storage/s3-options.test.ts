import assert from 'node:assert/strict';
import { test } from 'node:test';
import { s3OptionsFromEnv } from './s3-options.ts';

test('an endpoint (MinIO, Ceph) turns on path-style URLs and gives a default region', () => {
  const o = s3OptionsFromEnv('logs', { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_ENDPOINT_URL: 'http://other:1' });
  assert.equal(o.endpoint, 'http://127.0.0.1:9000', 'the S3-specific variable first');
  assert.equal(o.forcePathStyle, true);
  assert.equal(o.region, 'us-east-1');
  assert.equal(s3OptionsFromEnv('logs', { AWS_ENDPOINT_URL: 'http://other:1' }).endpoint, 'http://other:1');
});

test('AWS itself: virtual-hosted URLs, the region from the environment or the profile', () => {
  const o = s3OptionsFromEnv('logs', { AWS_REGION: 'eu-west-3' });
  assert.equal(o.endpoint, undefined);
  assert.equal(o.forcePathStyle, false);
  assert.equal(o.region, 'eu-west-3');
  assert.equal(s3OptionsFromEnv('logs', {}).region, undefined, 'left to the SDK (AWS_PROFILE, config files)');
  assert.equal(s3OptionsFromEnv('logs', { AWS_DEFAULT_REGION: 'us-west-2' }).region, 'us-west-2');
});

test('TORPEDO_S3_PATH_STYLE, TORPEDO_S3_CONDITIONAL_WRITES, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE', () => {
  assert.equal(s3OptionsFromEnv('b', { TORPEDO_S3_PATH_STYLE: '1' }).forcePathStyle, true);
  assert.equal(s3OptionsFromEnv('b', { TORPEDO_S3_PATH_STYLE: '0', AWS_ENDPOINT_URL_S3: 'http://h:1' }).forcePathStyle, false);
  assert.equal(s3OptionsFromEnv('b', { TORPEDO_S3_CONDITIONAL_WRITES: 'off' }).conditionalWrites, 'off');
  assert.equal(s3OptionsFromEnv('b', { TORPEDO_S3_CONDITIONAL_WRITES: 'bogus' }).conditionalWrites, undefined);
  assert.equal(s3OptionsFromEnv('b', { AWS_MAX_ATTEMPTS: '9' }).maxAttempts, 9);
  assert.equal(s3OptionsFromEnv('b', { AWS_MAX_ATTEMPTS: 'x' }).maxAttempts, undefined);
  assert.equal(s3OptionsFromEnv('b', { AWS_RETRY_MODE: 'adaptive' }).retryMode, 'adaptive');
});

test('credentials are left to the SDK; only listed as secrets that no message may contain', () => {
  const o = s3OptionsFromEnv('b', { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', AWS_SESSION_TOKEN: '' });
  assert.equal(o.credentials, undefined);
  assert.deepEqual(o.secrets, ['AKIDEXAMPLE', 'wJalrXUtnFEMI']);
});
