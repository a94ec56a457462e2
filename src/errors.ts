/**
 * Every error a user can see, in one registry: a stable code, the HTTP status the API returns,
 * and what it means. docs/errors.md lists the same codes; test/errors-doc.test.ts keeps them in sync.
 */
export const ERRORS = {
  TORPEDO_ERR_BAD_FLAG: { status: 400, summary: 'A command-line flag or API parameter has an invalid value.' },
  TORPEDO_ERR_JOB_NOT_FOUND: { status: 400, summary: 'The job file or built-in example does not exist.' },
  TORPEDO_ERR_JOB_SYNTAX: { status: 400, summary: 'The job module does not compile (syntax or type error), with file:line.' },
  TORPEDO_ERR_JOB_SHAPE: { status: 400, summary: 'The job module has no default export with `map` and `reduce` functions.' },
  TORPEDO_ERR_INPUT_NOT_FOUND: { status: 400, summary: 'An input path does not exist or cannot be read.' },
  TORPEDO_ERR_OUTPUT_EXISTS: { status: 409, summary: 'The output directory exists; pass --force to replace it.' },
  TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT: { status: 400, summary: 'The output directory is, contains or lies inside an input path.' },
  TORPEDO_ERR_USER_CODE: { status: 500, summary: "The job's own code threw; the message names the record's file and offset." },
  TORPEDO_ERR_PARTITION_RANGE: { status: 500, summary: '`partition` returned something other than an integer in [0, R).' },
  TORPEDO_ERR_RECORD_TOO_LARGE: { status: 500, summary: 'An input line is longer than the maximum record size.' },
  TORPEDO_ERR_BAD_EMIT: { status: 500, summary: 'The job emitted a key that is not a string or a value JSON cannot encode.' },
  TORPEDO_ERR_TASK_FAILED: { status: 500, summary: 'A task failed on every attempt; the job failed.' },
  TORPEDO_ERR_WORKER_LOST: { status: 500, summary: 'A worker process died or stopped heartbeating while running a task.' },
  TORPEDO_ERR_OUT_OF_MEMORY: { status: 500, summary: 'A worker ran out of memory (its heap limit, --worker-memory) while running a task.' },
  TORPEDO_ERR_TASK_TIMEOUT: { status: 500, summary: 'A task attempt ran longer than --task-timeout; it was stopped and retried.' },
  TORPEDO_ERR_CORRUPT_DATA: { status: 500, summary: 'An intermediate file is truncated or malformed.' },
  TORPEDO_ERR_PROTOCOL: { status: 400, summary: 'A worker sent a malformed or unauthorised task-protocol message.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorDetails {
  /** The input file and byte offset of the record being processed, when there is one. */
  readonly file?: string;
  readonly offset?: number;
  /** The user's own stack trace, when user code threw. */
  readonly userStack?: string;
}

export class TorpedoError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'TorpedoError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export function isTorpedoError(e: unknown): e is TorpedoError {
  return e instanceof TorpedoError;
}
