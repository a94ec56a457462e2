import type { MapBytesContext, NonAsciiFn, TaskContext } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';
import { describePosition, type RecordPosition } from '../input/record-position.ts';

/** The `ctx` handed to user code; one per attempt. `file`/`offset` are updated per record. */
export class AttemptContext implements MapBytesContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly params: Readonly<Record<string, string>>;
  readonly reducers: number;
  readonly setup: unknown;
  readonly files: Readonly<Record<string, string>>;
  file = '';
  offset = 0;
  readonly counters: Record<string, number> = {};
  /** Where `countTokens` counts: set by the map runner for `mapBytes`. */
  tokenSink: MapBytesContext['countTokens'] | undefined;

  constructor(init: Omit<TaskContext, 'count'>) {
    this.taskId = init.taskId;
    this.attempt = init.attempt;
    this.params = init.params;
    this.reducers = init.reducers;
    this.setup = init.setup;
    this.files = Object.freeze({ ...init.files });
  }

  /** How many times `count` was called (the map runner watches it around nonAscii calls). */
  countCalls = 0;

  count(name: string, n = 1): void {
    this.countCalls++;
    if (typeof name !== 'string' || !Number.isFinite(n)) {
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', `ctx.count(name, n): name must be a string and n a finite number`);
    }
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  countTokens(buf: Uint8Array, start: number, end: number, tokenBytes: Uint8Array, nonAscii?: NonAsciiFn): void {
    if (this.tokenSink === undefined) throw new TorpedoError('TORPEDO_ERR_USER_CODE', 'ctx.countTokens can only be called from mapBytes');
    if (!(buf instanceof Uint8Array) || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > buf.length) {
      throw new TorpedoError('TORPEDO_ERR_USER_CODE', `ctx.countTokens(buf, start, end, …): [${start}, ${end}) is not a range of buf`);
    }
    this.tokenSink(buf, start, end, tokenBytes, nonAscii);
  }
}

/**
 * Wraps an error thrown by user code with the job file and the record's position. Who calls: the
 * runners (map, reduce, setup) around every call of a job's function. `retryable: false` marks an
 * error no retry can fix (see setup-runner.ts).
 */
export function userError(e: unknown, jobName: string, where: string, at?: RecordPosition, o: { retryable?: false } = {}): TorpedoError {
  if (e instanceof TorpedoError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const position = at === undefined ? '' : ` in ${describePosition(at)}`;
  return new TorpedoError('TORPEDO_ERR_USER_CODE', `${jobName}: ${where} threw${position}: ${err.message}${outsideHint(err)}`, {
    ...(at !== undefined ? { file: at.file, offset: at.offset, ...(at.record !== undefined && at.record !== at.offset ? { record: at.record } : {}) } : {}),
    userStack: err.stack,
    ...o,
  });
}

/**
 * What to do when user code could not open a path: the sandbox shows a job only torpedo, its
 * inputs and its side files (Node's permission model says ERR_ACCESS_DENIED; bubblewrap's view has
 * no such file). Empty for other errors.
 */
function outsideHint(err: Error): string {
  const { code, path, resource } = err as Error & { code?: unknown; path?: unknown; resource?: unknown };
  const target = typeof path === 'string' ? path : typeof resource === 'string' ? resource : undefined;
  if (target === undefined || !(code === 'ERR_ACCESS_DENIED' || code === 'ENOENT' || code === 'EACCES')) return '';
  const name = target.split('/').pop() ?? target;
  return ` (a job sees only its inputs and its side files: to read ${JSON.stringify(target)}, pass it with --file ${target} and read ctx.files[${JSON.stringify(name)}]; docs/job-api.md, "Side files")`;
}
