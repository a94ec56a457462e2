import { explainNoSpace, TorpedoError, type ErrorCode } from '../errors.ts';
import { ROOT } from '../paths.ts';
import type { ErrorReport } from '../protocol/messages.ts';

/**
 * Errors that no retry can fix, whatever attempt runs them: a parameter the job cannot take, a
 * job module that does not compile or lacks `map`, a compressed input that does not decode. The
 * master fails their task at once.
 */
const NEVER_RETRIED: ReadonlySet<ErrorCode> = new Set(['TORPEDO_ERR_BAD_FLAG', 'TORPEDO_ERR_JOB_SYNTAX', 'TORPEDO_ERR_JOB_SHAPE', 'TORPEDO_ERR_CORRUPT_INPUT']);

/**
 * A failed attempt's error as the master is told it (and, through the job's summary, the user).
 * Who calls: the worker's task loop (worker.ts), once per failed attempt.
 *
 * - `stack` holds only the frames of user code (the job module and what it imports), never the
 *   engine's: an engine error without a user frame (a full storage, a damaged file, a bug of
 *   torpedo's) has none. The whole stack is for the worker's log (fullStack).
 * - `retryable: false` for an error no retry can fix (NEVER_RETRIED, or one marked so where it
 *   was made, such as a setup's TypeError: see setup-runner.ts).
 * - A full storage is TORPEDO_ERR_NO_SPACE naming the path.
 */
export function toReport(thrown: unknown): ErrorReport {
  const e = explainNoSpace(thrown);
  if (e instanceof TorpedoError) {
    const stack = userFrames(e.details.userStack ?? e.stack);
    const retryable = e.details.retryable !== false && !NEVER_RETRIED.has(e.code);
    return {
      code: e.code,
      message: e.message,
      ...(stack !== undefined ? { stack } : {}),
      ...(e.details.file !== undefined ? { file: e.details.file } : {}),
      ...(e.details.offset !== undefined ? { offset: e.details.offset } : {}),
      ...(e.details.record !== undefined ? { record: e.details.record } : {}),
      ...(retryable ? {} : { retryable: false as const }),
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const stack = userFrames(err.stack);
  return { code: 'TORPEDO_ERR_TASK_FAILED', message: err.message, ...(stack !== undefined ? { stack } : {}) };
}

/**
 * The whole stack of a failed attempt's error, engine frames and all, for the worker's log: the
 * user code's own error if it threw (what the engine wrapped it in adds nothing), else the error's.
 */
export function fullStack(thrown: unknown): string | undefined {
  if (thrown instanceof TorpedoError && thrown.details.userStack !== undefined) return thrown.details.userStack;
  return thrown instanceof Error ? thrown.stack : undefined;
}

/** torpedo's own code: its sources (source-mapped frames may drop the leading slash), its bundle and dependencies, and Node's internals. */
const ENGINE_FRAME = new RegExp(`(?:/?${ROOT.replace(/^\//, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(?:src|bin|node_modules)/|\\(node:|at node:)`);

/**
 * A stack with the engine's frames taken out: its first lines (the error and its message), then
 * the frames of user code only. Undefined when no frame is user code: the error is the engine's,
 * and its frames would tell a user nothing.
 */
export function userFrames(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  if (firstFrame === -1) return undefined;
  const frames = lines.slice(firstFrame).filter((l) => !ENGINE_FRAME.test(l));
  if (frames.length === 0) return undefined;
  return [...lines.slice(0, firstFrame), ...frames].join('\n');
}
