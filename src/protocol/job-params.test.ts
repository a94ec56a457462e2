import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_SPELLING, checkParams, CLI_SPELLING, parseParamDeclarations } from './job-params.ts';

const GREP = { pattern: { required: true, help: 'a regular expression' }, flags: { help: 'e.g. i' } };

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'TORPEDO_ERR_BAD_FLAG');
    return (e as Error).message;
  }
  assert.fail('not refused');
}

test('a job that declares no params takes any', () => {
  checkParams(undefined, { anything: 'x' }, 'job.mjs', CLI_SPELLING);
});

test('a required parameter missing or empty is refused, naming it and how to give it', () => {
  assert.equal(refusal(() => checkParams(GREP, {}, 'grep', CLI_SPELLING)), 'grep needs the parameter "pattern" (a regular expression): give --param pattern=VALUE');
  assert.match(refusal(() => checkParams(GREP, { pattern: '' }, 'grep', API_SPELLING)), /give "params": \{"pattern": "…"\}$/);
  checkParams(GREP, { pattern: 'x' }, 'grep', CLI_SPELLING);
  checkParams(GREP, { pattern: 'x', flags: 'i' }, 'grep', CLI_SPELLING);
});

test('an unknown parameter is refused with the list of known ones', () => {
  assert.equal(
    refusal(() => checkParams(GREP, { pattern: 'x', flag: 'i' }, 'grep', CLI_SPELLING)),
    'grep has no parameter "flag": it takes "pattern" (required: a regular expression); "flags" (optional: e.g. i)',
  );
  assert.equal(refusal(() => checkParams({}, { x: '1' }, 'wordcount', CLI_SPELLING)), 'wordcount has no parameter "x": it takes no parameters');
  // Not an own property of the declaration: still unknown.
  assert.match(refusal(() => checkParams({}, { toString: '1' }, 'wordcount', CLI_SPELLING)), /no parameter "toString"/);
});

test('a declaration that is not plain data of the shape is a JOB_SHAPE error', () => {
  assert.deepEqual(parseParamDeclarations(GREP, 'grep'), GREP);
  assert.equal(parseParamDeclarations(undefined, 'grep'), undefined);
  for (const bad of [{ pattern: { requried: true } }, { pattern: true }, [1], { pattern: { help: 3 } }]) {
    assert.throws(() => parseParamDeclarations(bad, 'job.mjs'), (e: Error & { code?: string }) => e.code === 'TORPEDO_ERR_JOB_SHAPE' && /job\.mjs: `params`/.test(e.message), JSON.stringify(bad));
  }
});
