import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TorpedoError } from '../errors.ts';
import { ROOT } from '../paths.ts';
import { toReport, userFrames } from './error-report.ts';

const USER = '    at map (/home/u/job.ts:3:9)';
const ENGINE = [`    at runMap (${join(ROOT, 'src/worker/map-runner.ts')}:101:19)`, `    at Command.x (${join(ROOT, 'node_modules/commander/lib/command.js')}:1:1)`, '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)'];

test("a stack keeps its message and the user's frames, none of torpedo's", () => {
  assert.equal(userFrames(['Error: boom', 'second line', USER, ...ENGINE].join('\n')), ['Error: boom', 'second line', USER].join('\n'));
  assert.equal(userFrames(['Error: engine', ...ENGINE].join('\n')), undefined);
  assert.equal(userFrames(undefined), undefined);
});

test('the report: no engine stack, retryable: false for errors no retry can fix', () => {
  const engine = toReport(new Error('EIO somewhere'));
  assert.deepEqual(engine, { code: 'TORPEDO_ERR_TASK_FAILED', message: 'EIO somewhere' });
  assert.equal(toReport(new TorpedoError('TORPEDO_ERR_JOB_SHAPE', 'no map')).retryable, false);
  assert.equal(toReport(new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'bad')).retryable, false);
  assert.equal(toReport(new TorpedoError('TORPEDO_ERR_USER_CODE', 'setup threw', { retryable: false })).retryable, false);
  const user = toReport(new TorpedoError('TORPEDO_ERR_USER_CODE', 'map threw', { file: 'a', offset: 3, userStack: ['TypeError: x', USER, ...ENGINE].join('\n') }));
  assert.deepEqual(user, { code: 'TORPEDO_ERR_USER_CODE', message: 'map threw', stack: `TypeError: x\n${USER}`, file: 'a', offset: 3 });
});
