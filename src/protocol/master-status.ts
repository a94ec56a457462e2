import { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import { CountersSchema, ErrorReportSchema, TaskKindSchema } from './messages.ts';
import { firstIssue } from './schema-issue.ts';

/**
 * The master's status file: what `torpedo master --status-file PATH` writes (src/cli/master-command.ts)
 * every `--status-interval` while the job runs, and once more, with the summary, when it ends.
 * Each write replaces the whole file through a rename, so a reader sees one whole status or the
 * one before. Readers: the manager on Kubernetes (ClusterJobs.readStatus), which follows jobs
 * whose masters run in pods; and people, with `jq`. Parse with `parseMasterStatus`.
 *
 * The master's own types for these values (Progress, JobSnapshot in master/job-snapshot.ts,
 * JobSummary in master/job-summary.ts) are checked against these schemas at compile time, in the
 * writer: a field added on one side only does not compile.
 */

/** Where the manager has a job's master write its status: next to the job's output directory. */
export const MASTER_STATUS_FILE = 'master-status.json';

export const PhaseSchema = z.enum(['setup', 'map', 'reduce', 'commit', 'succeeded', 'failed']);
export const TaskStateSchema = z.enum(['pending', 'running', 'done', 'failed']);
export type TaskState = z.infer<typeof TaskStateSchema>;
export const AttemptStateSchema = z.enum(['running', 'succeeded', 'failed', 'lost', 'killed']);
export type AttemptState = z.infer<typeof AttemptStateSchema>;

const count = z.number().int().nonnegative();
const PhaseCountsSchema = z.record(TaskKindSchema, z.object({ done: count, total: count }));

export const ProgressSchema = z.object({
  phase: PhaseSchema,
  /** Tasks of the current phase. */
  done: count,
  total: count,
  /** Tasks done and in all, per phase. */
  phases: PhaseCountsSchema,
  /** Input bytes read by map attempts, finished and running. */
  mapBytes: z.number().nonnegative(),
  inputBytes: z.number().nonnegative(),
});

export const TaskSnapshotSchema = z.object({
  kind: TaskKindSchema,
  index: count,
  state: TaskStateSchema,
  reused: z.boolean(),
  /** Map tasks: the bytes of input the task reads. */
  bytes: z.number().nonnegative().optional(),
  attempts: z.array(
    z.object({
      id: z.string(),
      worker: z.string(),
      state: AttemptStateSchema,
      backup: z.boolean(),
      startedAt: z.number(),
      endedAt: z.number().optional(),
      error: z.string().optional(),
      /** A running attempt's CPU time (ms) and its worker's RSS, from the last heartbeat. */
      cpuMs: z.number().nonnegative().optional(),
      rssBytes: z.number().nonnegative().optional(),
    }),
  ).readonly(),
});

/**
 * Something the job's owner should know that is neither progress nor an error: e.g. that some of
 * its worker pods did not start, and why (src/kubernetes/kubernetes-launcher.ts). `at`: ms since
 * the epoch. Kept in the snapshot while the job runs and in its summary at the end.
 */
export const JobEventNoteSchema = z.object({ at: z.number(), message: z.string() });

export const JobSnapshotSchema = z.object({
  phase: PhaseSchema,
  phases: PhaseCountsSchema,
  mapBytes: z.number().nonnegative(),
  inputBytes: z.number().nonnegative(),
  tasks: z.array(TaskSnapshotSchema).readonly(),
  counters: CountersSchema,
  userCounters: CountersSchema,
  events: z.array(JobEventNoteSchema).readonly().optional(),
});

export const PhaseSummarySchema = z.object({
  tasks: count,
  attempts: count,
  failedAttempts: count,
  lostAttempts: count,
  killedAttempts: count,
  backupAttempts: count,
  reusedTasks: count,
});

export const JobSummarySchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  jobId: z.string(),
  job: z.string(),
  output: z.string(),
  wallMs: z.number().nonnegative(),
  inputBytes: z.number().nonnegative(),
  mbPerSecond: z.number().nonnegative(),
  counters: CountersSchema,
  userCounters: CountersSchema,
  phases: z.record(TaskKindSchema, PhaseSummarySchema),
  workers: z.array(z.object({ id: z.string(), maxRssBytes: z.number().nonnegative() })).readonly(),
  error: ErrorReportSchema.optional(),
  events: z.array(JobEventNoteSchema).readonly().optional(),
});

export const MasterStatusSchema = z.object({
  state: z.enum(['running', 'succeeded', 'failed']),
  /** When the master wrote this (ms since the epoch). */
  updatedAt: z.number(),
  /** Progress and snapshot are absent only from the final status of a master that never started. */
  progress: ProgressSchema.optional(),
  snapshot: JobSnapshotSchema.optional(),
  /** Set in the last status, when the job has ended. */
  summary: JobSummarySchema.optional(),
});
export type MasterStatus = z.infer<typeof MasterStatusSchema>;

/**
 * The status in `text`, read from `source` (named in the error). A file that is not a whole
 * status (truncated, or written by something else) is a TORPEDO_ERR_CORRUPT_DATA naming the
 * first wrong field, rather than a status whose fields are undefined.
 */
export function parseMasterStatus(text: string, source: string): MasterStatus {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `the master's status file ${source} is not JSON (${(e as Error).message}); is it truncated?`);
  }
  const parsed = MasterStatusSchema.safeParse(json);
  if (!parsed.success) throw new TorpedoError('TORPEDO_ERR_CORRUPT_DATA', `the master's status file ${source} is malformed ${firstIssue(parsed.error)}`);
  return parsed.data;
}
