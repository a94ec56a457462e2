/**
 * Every error a user can see, in one registry: a stable code, the HTTP status the API returns,
 * and what it means. docs/errors.md lists the same codes; test/errors-doc.test.ts keeps them in sync.
 */
export const ERRORS = {
  TORPEDO_ERR_BAD_FLAG: { status: 400, summary: 'A command-line flag or API parameter has an invalid value, or a job parameter (`--param`, `params`) is missing, empty or unknown to a job that declares its parameters; the message lists those it takes.' },
  TORPEDO_ERR_JOB_NOT_FOUND: { status: 400, summary: 'The job file or built-in example does not exist.' },
  TORPEDO_ERR_JOB_SYNTAX: { status: 400, summary: 'The job module does not compile (syntax or type error), with file:line.' },
  TORPEDO_ERR_JOB_SHAPE: { status: 400, summary: 'The job module has no default export with `map` and `reduce` functions.' },
  TORPEDO_ERR_INPUT_NOT_FOUND: { status: 400, summary: 'An input path does not exist or cannot be read.' },
  TORPEDO_ERR_OUTPUT_EXISTS: { status: 409, summary: 'The output directory exists; pass --force to replace it.' },
  TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT: { status: 400, summary: 'The output directory is, contains or lies inside an input path.' },
  TORPEDO_ERR_USER_CODE: { status: 500, summary: "The job's own code threw; the message names the record's file and byte offset (`FILE at byte N`, with the line when it is known)." },
  TORPEDO_ERR_PARTITION_RANGE: { status: 500, summary: '`partition` returned something other than an integer in [0, R).' },
  TORPEDO_ERR_RECORD_TOO_LARGE: { status: 500, summary: 'An input line is longer than the maximum record size.' },
  TORPEDO_ERR_INPUT_CHANGED: { status: 500, summary: 'An input file changed, shrank or vanished after the job planned its splits (its size or modification time differs, or it ended early while being read); the message names the file. Its map task fails (on every attempt) rather than give output from other bytes than the job planned.' },
  TORPEDO_ERR_CORRUPT_INPUT: { status: 500, summary: 'A compressed input file cannot be decoded: it is truncated or damaged, or it is not in the codec its name says (`.gz`, `.bz2`, `.zst`; `--input-compression` forces one, or `none`). The message names the file, the codec and the reason. No retry can fix it: its map task fails at once.' },
  TORPEDO_ERR_BAD_RECORD: { status: 500, summary: 'An input record of a JSON lines or CSV file does not parse (not a JSON value; a CSV row with another number of fields than its header, or bad quoting). The message names the file, the byte and the line where known; `--skip-bad-records` skips such records and counts them as `skipped records`. No retry can fix it. A quoted CSV field with a newline that crosses a split says to run with `--csv-multiline`.' },
  TORPEDO_ERR_BAD_EMIT: { status: 500, summary: 'The job emitted a key that is not a string or a value JSON cannot encode.' },
  TORPEDO_ERR_TASK_FAILED: { status: 500, summary: 'A task failed on every attempt; the job failed.' },
  TORPEDO_ERR_WORKER_LOST: { status: 500, summary: 'A worker process died or stopped heartbeating while running a task.' },
  TORPEDO_ERR_OUT_OF_MEMORY: { status: 500, summary: "A worker ran out of memory (its heap limit, --worker-memory, or WebAssembly's 4 GB for ctx.countTokens' table) while running a task." },
  TORPEDO_ERR_TASK_TIMEOUT: { status: 500, summary: 'A task attempt ran longer than --task-timeout; it was stopped and retried.' },
  TORPEDO_ERR_CORRUPT_DATA: { status: 500, summary: "An intermediate file is damaged (a checksum does not match), truncated, missing or malformed, or so is an output's `_SUCCESS` manifest (`torpedo verify`). A job fails with it only when a map output stays unreadable after its map was run again." },
  TORPEDO_ERR_NO_MANIFEST: { status: 400, summary: '`torpedo verify`: the directory has no `_SUCCESS` (it is not the output of a job that succeeded), or an empty one (written by a version before checksum manifests).' },
  TORPEDO_ERR_PROTOCOL: { status: 400, summary: 'A worker sent a malformed or unauthorised task-protocol message.' },
  TORPEDO_ERR_MASTER_UNREACHABLE: { status: 503, summary: 'A worker could not reach its master for longer than it waits (twice the lease timeout) and stopped.' },
  TORPEDO_ERR_BAD_REQUEST: { status: 400, summary: 'An API request is malformed: a missing or invalid field, name or query parameter.' },
  TORPEDO_ERR_UNAUTHENTICATED: { status: 401, summary: 'No token, or a token that is forged, expired, revoked (logout) or belongs to a disabled user; or wrong credentials.' },
  TORPEDO_ERR_FORBIDDEN: { status: 403, summary: 'The user lacks the role this request needs (or self-registration is disabled).' },
  TORPEDO_ERR_NOT_FOUND: { status: 404, summary: "No such user, dataset, job or output part — or it belongs to another user." },
  TORPEDO_ERR_CONFLICT: { status: 409, summary: 'The name is taken, or the job is not in a state that allows the request (e.g. cancelling an ended job).' },
  TORPEDO_ERR_REQUEST_TIMEOUT: { status: 408, summary: 'A request body arrived too slowly: a small body must arrive within TORPEDO_BODY_TIMEOUT_SECONDS, an upload must bring TORPEDO_UPLOAD_MIN_BYTES in every such window; nothing of it was kept.' },
  TORPEDO_ERR_TOO_LARGE: { status: 413, summary: 'An upload or request body is over the configured limit; nothing of it was kept.' },
  TORPEDO_ERR_RATE_LIMITED: { status: 429, summary: 'Too many requests (or failed logins) in a short time; retry after the Retry-After header.' },
  TORPEDO_ERR_CANCELLED: { status: 409, summary: 'The job was cancelled by a user; its workers were stopped.' },
  TORPEDO_ERR_CONFIG: { status: 500, summary: 'The manager refuses to start: a setting is missing or unsafe (e.g. the default JWT secret in production).' },
  TORPEDO_ERR_SANDBOX: { status: 503, summary: "User code cannot be confined here (no bubblewrap, not root, no user namespaces: the message says which), and this manager's operator has not allowed running it with less (docs/security.md)." },
  TORPEDO_ERR_MIGRATION: { status: 500, summary: 'The manager refuses to start: the database holds data that a migration of this version cannot take (e.g. usernames that differ only in case); the message says which and what to change.' },
  TORPEDO_ERR_CLUSTER: { status: 503, summary: "Running a job on Kubernetes failed: an API call was refused or went unanswered, the master or compile pod could not start (image, Secret, no node) or kept failing, or the job directory names another job. 503: the fault is in the cluster the manager depends on, not in the request or the job's code." },
  TORPEDO_ERR_PODS_NOT_STARTED: { status: 503, summary: "On Kubernetes, none of the job's worker pods started within `TORPEDO_K8S_START_TIMEOUT`: the message says how many are Pending and why (no node fits, an image that cannot be pulled, a quota). A job with some of its workers running goes on with those, and its events say what is missing." },
  TORPEDO_ERR_NO_SPACE: { status: 507, summary: 'The storage is full (no space left, or over a quota): what was being written is not kept, and what was stored before is intact. The message names the path. 507 in the API.' },
  TORPEDO_ERR_STORAGE_NOT_FOUND: { status: 404, summary: 'No object at a storage URI, or no such S3 bucket (the message says which and names the URI, `s3://bucket/key` or the path).' },
  TORPEDO_ERR_STORAGE_DENIED: { status: 403, summary: "The storage refused access to a URI: no credentials were found (the SDK's environment variables, config files or profile), they are wrong (an unknown access key, a wrong secret) or they do not grant this bucket or key; for a local path, the file's permissions. The message names the URI and never the credentials." },
  TORPEDO_ERR_STORAGE_UNAVAILABLE: { status: 503, summary: 'The storage did not answer a request for a URI: it kept throttling (503 SlowDown, 429) or dropping the connection after every retry, refused connections, or failed with a server error. The message names the URI and what happened; retrying later may work.' },
  TORPEDO_ERR_DB_UNAVAILABLE: { status: 503, summary: "The manager's database does not answer (an outage or a restart); retry after the Retry-After header. Jobs go on meanwhile, and their ends are saved once it answers." },
  TORPEDO_ERR_NOT_READY: { status: 503, summary: 'The manager cannot serve yet: its database does not answer.' },
  TORPEDO_ERR_INTERNAL: { status: 500, summary: 'An unexpected server error; the manager log has the details.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorDetails {
  /** The input file and byte offset of the record being processed, when there is one. */
  readonly file?: string;
  readonly offset?: number;
  /** The record's key for skip mode when it is not `offset`: in a combined split's later files. */
  readonly record?: number;
  /** The user's own stack trace, when user code threw. */
  readonly userStack?: string;
  /** False: no retry can fix it (the worker reports it so, and the master does not retry the task). */
  readonly retryable?: false;
  /** For TORPEDO_ERR_RATE_LIMITED: when to try again (the Retry-After header). */
  readonly retryAfterSeconds?: number;
}

export class TorpedoError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  /** `options.cause`: the system's error this one explains (e.g. a write's ENOSPC), kept for logs. */
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
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

/** Whether `e` is the system's "no space left" (ENOSPC) or "over quota" (EDQUOT), directly or as the cause of another. */
export function isNoSpace(e: unknown): e is NodeJS.ErrnoException {
  return noSpaceCause(e) !== undefined;
}

/** The ENOSPC or EDQUOT error in `e` or its causes, if any. */
function noSpaceCause(e: unknown): NodeJS.ErrnoException | undefined {
  for (let err = e, depth = 0; err instanceof Error && depth < 5; err = err.cause, depth++) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return err;
  }
  return undefined;
}

/**
 * TORPEDO_ERR_NO_SPACE for a write that found the storage full, naming `path`: the caller's, or
 * else the one the system said. A write(2)'s ENOSPC carries no path, so the engine's writers
 * (shuffle/buffered-file-writer.ts, master/atomic-write.ts) pass the file they were writing.
 * The system's error stays as the cause.
 */
export function noSpaceError(e: NodeJS.ErrnoException, what = 'writing', path: string | undefined = e.path): TorpedoError {
  const named = path !== undefined ? ` ${path}` : '';
  return new TorpedoError('TORPEDO_ERR_NO_SPACE', `no space left on the storage ${what}${named} (${noSpaceCause(e)?.code ?? 'ENOSPC'}); free some and try again`, {}, { cause: e });
}

/**
 * `e` as the user should see it: a full storage's error that is not yet a TorpedoError becomes
 * TORPEDO_ERR_NO_SPACE (naming the path the system said); any other is left as it is. Who calls:
 * the engine's catch-alls (a worker's failed attempt, the master's bookkeeping and job commit).
 */
export function explainNoSpace(e: unknown): unknown {
  return isNoSpace(e) && !isTorpedoError(e) ? noSpaceError(e) : e;
}
