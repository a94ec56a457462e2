import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromS3Error, scrub } from './s3-errors.ts';

const ctx = { uri: 's3://logs/in/a.txt', doing: 'reading', endpoint: 'http://127.0.0.1:9000', attempts: 5, secrets: ['AKIDEXAMPLE1234', 'wJalrXUtnFEMIsecret'] };
const err = (name: string, status?: number, more: Record<string, unknown> = {}): unknown =>
  Object.assign(new Error(`server text with AKIDEXAMPLE1234 and Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE1234`), { name, ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}), ...more });

test('each SDK error is a StorageError of its reason and code, naming the URI', () => {
  const cases: [unknown, string, string][] = [
    [err('NoSuchKey', 404), 'not-found', 'TORPEDO_ERR_STORAGE_NOT_FOUND'],
    [err('NotFound', 404), 'not-found', 'TORPEDO_ERR_STORAGE_NOT_FOUND'],
    [err('NoSuchBucket', 404), 'no-bucket', 'TORPEDO_ERR_STORAGE_NOT_FOUND'],
    [err('CredentialsProviderError'), 'no-credentials', 'TORPEDO_ERR_STORAGE_DENIED'],
    [err('SignatureDoesNotMatch', 403), 'access-denied', 'TORPEDO_ERR_STORAGE_DENIED'],
    [err('InvalidAccessKeyId', 403), 'access-denied', 'TORPEDO_ERR_STORAGE_DENIED'],
    [err('Forbidden', 403), 'access-denied', 'TORPEDO_ERR_STORAGE_DENIED'],
    [err('SlowDown', 503), 'throttled', 'TORPEDO_ERR_STORAGE_UNAVAILABLE'],
    [err('TooManyRequests', 429), 'throttled', 'TORPEDO_ERR_STORAGE_UNAVAILABLE'],
    [err('Error', undefined, { code: 'ECONNRESET' }), 'connection', 'TORPEDO_ERR_STORAGE_UNAVAILABLE'],
    [err('TimeoutError'), 'connection', 'TORPEDO_ERR_STORAGE_UNAVAILABLE'],
    [err('PreconditionFailed', 412), 'changed', 'TORPEDO_ERR_INPUT_CHANGED'],
    [err('InternalError', 500), 'unavailable', 'TORPEDO_ERR_STORAGE_UNAVAILABLE'],
  ];
  for (const [e, reason, code] of cases) {
    const s = fromS3Error(e, ctx);
    assert.equal(s.reason, reason, (e as Error).name);
    assert.equal(s.code, code);
    assert.ok(s.message.includes('s3://logs/in/a.txt'), s.message);
    assert.ok(!s.message.includes('AKIDEXAMPLE1234') && !s.message.includes('Credential='), 'the server text is not passed on');
    assert.equal(s.cause, undefined, 'nor the SDK error');
  }
});

test('scrub: what is kept is cleared of the configured keys', () => {
  assert.equal(scrub('key AKIDEXAMPLE1234 secret wJalrXUtnFEMIsecret', ctx.secrets), 'key *** secret ***');
  assert.equal(fromS3Error(err('AKIDEXAMPLE1234', 400), ctx).message.includes('AKIDEXAMPLE1234'), false);
});
