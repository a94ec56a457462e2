import { z } from 'zod';
import { WorkerSettingsSchema } from './job-settings-schema.ts';
import { StreamingSpecSchema } from './streaming-spec.ts';
import { PartChecksumSchema } from './part-checksum.ts';

/**
 * The task protocol between a job's master and its workers: JSON over HTTP, every request a POST
 * carrying `Authorization: Bearer <per-job token>`. The same messages run on loopback and across
 * a pod network. docs/protocol.md describes the exchange.
 *
 *   POST /v1/register  RegisterRequest  → JobInfo        once per worker process
 *   POST /v1/next      NextRequest      → NextResponse   long poll; one task at a time
 *   POST /v1/heartbeat HeartbeatRequest → HeartbeatResponse   every heartbeat interval while busy
 *   POST /v1/commit    CommitRequest    → CommitResponse before publishing the attempt's output
 *   POST /v1/done      DoneRequest      → Ack            after the attempt committed its output
 *   POST /v1/failed    FailedRequest    → Ack            after the attempt failed
 */
export const PROTOCOL_VERSION = 1;

/** One file's byte range (of a split: the first one, or one of the whole files packed after it). */
const SplitPieceSchema = z.object({
  file: z.string(),
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  /** The file's size and mtime when the job was planned: the reader refuses a file that changed since. */
  fileSize: z.number().int().nonnegative().optional(),
  fileMtimeMs: z.number().nonnegative().optional(),
  /** An object's ETag when planned (an input in an object store): reads refuse any other version. */
  fileEtag: z.string().optional(),
  /** What user code sees as `ctx.file` when it is not the path (the manager's dataset name). */
  name: z.string().optional(),
  /** The codec the file is read with (src/input/codecs.ts); absent: read as it is. */
  compression: z.enum(['gzip', 'bzip2', 'zstd']).optional(),
  /** The record format (src/input/codecs.ts); absent: text, a record per line. */
  format: z.enum(['jsonl', 'csv']).optional(),
  /** A CSV split's field delimiter, one character. */
  delimiter: z.string().length(1).optional(),
});

export const SplitSchema = SplitPieceSchema.extend({
  /** Whole small files read after the first, by the same map task (a combined split). */
  more: z.array(SplitPieceSchema).optional(),
});

export const JobInfoSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  jobId: z.string(),
  /** How errors name the job: the user's job file, or the built-in example's name. */
  jobName: z.string(),
  /** The bundled job module (an ES module file on shared storage). */
  bundle: z.string(),
  /** The job's working directory on shared storage (OUTPUT/_temporary). */
  workDir: z.string(),
  /** The job's settings a worker reads (WORKER_SETTINGS of job-settings.ts: R, memory, lines, heartbeat, params). */
  ...WorkerSettingsSchema.shape,
  /** How many map tasks the job has. */
  maps: z.number().int().nonnegative(),
  /**
   * A worker that has not reached its master for this long stops on its own: its attempts have
   * been given to others by then (the lease timeout is shorter), and the master may be gone.
   */
  masterTimeoutMs: z.number().int().positive(),
  /** Set for a streaming job: its commands replace the bundle's functions. */
  streaming: StreamingSpecSchema.optional(),
  /** A JavaScript job's side files: name → the path a task reads (`ctx.files`). */
  files: z.record(z.string(), z.string()).optional(),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

export const TaskKindSchema = z.enum(['setup', 'map', 'reduce']);
export type TaskKind = z.infer<typeof TaskKindSchema>;

export const TaskSchema = z.object({
  attemptId: z.string(),
  kind: TaskKindSchema,
  /** Task number within its kind (map-00003 → 3). */
  index: z.number().int().nonnegative(),
  /** 0 for a task's first attempt. */
  attempt: z.number().int().nonnegative(),
  split: SplitSchema.optional(),
  /** Map tasks in skip mode: byte offsets of records in the split not to give to `map`. */
  skip: z.array(z.number().int().nonnegative()).optional(),
  /** Setup tasks: the input files, one whole-file range each, for sampling. */
  splits: z.array(SplitSchema).optional(),
});
export type Task = z.infer<typeof TaskSchema>;

export const RegisterRequestSchema = z.object({ workerId: z.string(), pid: z.number().int() });
export const NextRequestSchema = z.object({ workerId: z.string() });
export const NextResponseSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('task'), task: TaskSchema }),
  z.object({ type: z.literal('wait') }),
  z.object({ type: z.literal('exit') }),
]);
export type NextResponse = z.infer<typeof NextResponseSchema>;

/**
 * An attempt's cost as its worker measures it: CPU time (user + system) of the worker process
 * since the attempt began, in ms, and the worker's resident set size now. A worker runs one
 * attempt at a time, so the worker's process is the attempt's (a streaming job's commands, its
 * children, are not counted).
 */
export const AttemptUsageSchema = z.object({ cpuMs: z.number().nonnegative(), rssBytes: z.number().nonnegative() });
export type AttemptUsage = z.infer<typeof AttemptUsageSchema>;

export const HeartbeatRequestSchema = z.object({
  workerId: z.string(),
  attemptId: z.string(),
  /** Input bytes consumed so far by this attempt. */
  bytes: z.number().nonnegative(),
  /** What the attempt costs its worker so far, for the manager's cluster view; absent from older workers. */
  usage: AttemptUsageSchema.optional(),
});
export const HeartbeatResponseSchema = z.object({ abort: z.boolean() });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

/**
 * Fencing: an attempt asks before it publishes its output. The master says yes only to an attempt
 * it still counts as running on that worker; one whose lease expired, that lost a backup race or
 * whose task is done already is told no, and drops its output.
 */
export const CommitRequestSchema = z.object({ workerId: z.string(), attemptId: z.string() });
export const CommitResponseSchema = z.object({ commit: z.boolean(), reason: z.string().optional() });
export type CommitResponse = z.infer<typeof CommitResponseSchema>;

export const CountersSchema = z.record(z.string(), z.number());
export type Counters = z.infer<typeof CountersSchema>;

export const DoneRequestSchema = z.object({
  workerId: z.string(),
  attemptId: z.string(),
  /** Engine counters (`map input records` …). */
  counters: CountersSchema,
  /** The job's own `ctx.count` counters. */
  userCounters: CountersSchema,
  /** False if another attempt of the task had already committed (this one's output was dropped). */
  committed: z.boolean(),
  maxRssBytes: z.number().nonnegative(),
  /** Setup tasks: the job's setup result. */
  setup: z.unknown().optional(),
  /**
   * Reduce tasks that committed their part: its size and CRC-32, computed as it was written,
   * for the output's manifest (master/commit-job.ts).
   */
  part: PartChecksumSchema.optional(),
  /** The named outputs (`emit.to`) the attempt committed with its part: name → size and CRC-32. */
  named: z.record(z.string(), PartChecksumSchema).optional(),
});

export const ErrorReportSchema = z.object({
  code: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  file: z.string().optional(),
  offset: z.number().optional(),
  /** The record's key for skip mode when it is not `offset` (a combined split's later files). */
  record: z.number().int().nonnegative().optional(),
  /**
   * Reduce attempts: the map task whose committed output could not be read (damaged, cut off or
   * missing). The master re-runs that map instead of counting the failure against the reduce.
   */
  mapOutput: z.number().int().nonnegative().optional(),
  /**
   * False for an error that no retry can fix (a bad parameter, a job module without `map`, a
   * setup that threw a TypeError on its configuration): the master fails the task at this
   * attempt instead of running it again. Absent: the attempt may be retried.
   */
  retryable: z.literal(false).optional(),
});
export type ErrorReport = z.infer<typeof ErrorReportSchema>;

export const FailedRequestSchema = z.object({
  workerId: z.string(),
  attemptId: z.string(),
  error: ErrorReportSchema,
  maxRssBytes: z.number().nonnegative(),
});

export const AckSchema = z.object({ ok: z.literal(true) });
export type Ack = z.infer<typeof AckSchema>;

/**
 * Every route with what it carries and what it is answered. The worker's client (client.ts)
 * sends the one and parses the other with these schemas. The master's server parses requests
 * with the same request schemas (master/master-server.ts, through a route list of its own for
 * now), and the Master's handlers answer with TaskProtocol's types (checked in client.test.ts).
 */
export const PROTOCOL_ROUTES = {
  '/v1/register': { request: RegisterRequestSchema, response: JobInfoSchema },
  '/v1/next': { request: NextRequestSchema, response: NextResponseSchema },
  '/v1/heartbeat': { request: HeartbeatRequestSchema, response: HeartbeatResponseSchema },
  '/v1/commit': { request: CommitRequestSchema, response: CommitResponseSchema },
  '/v1/done': { request: DoneRequestSchema, response: AckSchema },
  '/v1/failed': { request: FailedRequestSchema, response: AckSchema },
} as const;
export type ProtocolRoute = keyof typeof PROTOCOL_ROUTES;
export type RequestOf<R extends ProtocolRoute> = z.infer<(typeof PROTOCOL_ROUTES)[R]['request']>;
export type ResponseOf<R extends ProtocolRoute> = z.infer<(typeof PROTOCOL_ROUTES)[R]['response']>;

/** The master's side of the protocol: a handler per route, answering with that route's response. */
export interface TaskProtocol {
  register(req: RequestOf<'/v1/register'>): ResponseOf<'/v1/register'>;
  /** A long poll: may take a while to answer. */
  next(req: RequestOf<'/v1/next'>): Promise<ResponseOf<'/v1/next'>>;
  heartbeat(req: RequestOf<'/v1/heartbeat'>): ResponseOf<'/v1/heartbeat'>;
  commit(req: RequestOf<'/v1/commit'>): ResponseOf<'/v1/commit'>;
  done(req: RequestOf<'/v1/done'>): ResponseOf<'/v1/done'>;
  failed(req: RequestOf<'/v1/failed'>): ResponseOf<'/v1/failed'>;
}
