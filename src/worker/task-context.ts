import type { MapBytesContext, NonAsciiFn, TaskContext } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';

/** The `ctx` handed to user code; one per attempt. `file`/`offset` are updated per record. */
export class AttemptContext implements MapBytesContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly params: Readonly<Record<string, string>>;
  readonly reducers: number;
  readonly setup: unknown;
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

/** Wraps an error thrown by user code with the job file and the record's position. */
export function userError(e: unknown, jobName: string, where: string, file?: string, offset?: number): TorpedoError {
  if (e instanceof TorpedoError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const at = file === undefined ? '' : ` at ${file}:${offset ?? 0}`;
  return new TorpedoError('TORPEDO_ERR_USER_CODE', `${jobName}: ${where} threw${at}: ${err.message}`, {
    file,
    offset,
    userStack: err.stack,
  });
}
