import { PROTOCOL_VERSION, type JobInfo } from '../protocol/messages.ts';
import type { Split } from '../input/splits.ts';
import type { StreamingSpec } from '../streaming/streaming-spec.ts';
import type { Clock } from './clock.ts';
import type { JobLayout } from './job-layout.ts';

export interface MasterOptions {
  readonly jobId: string;
  readonly jobName: string;
  readonly layout: JobLayout;
  readonly splits: readonly Split[];
  readonly reducers: number;
  readonly workers: number;
  readonly memoryBytes: number;
  readonly maxRecordBytes: number;
  readonly params: Readonly<Record<string, string>>;
  readonly hasSetup: boolean;
  readonly maxAttempts: number;
  /** Start backup attempts of stragglers when a phase has nothing left to hand out (default true). */
  readonly backupTasks?: boolean;
  /** Skip a map record after it made user code throw twice (the paper's section 4.6). */
  readonly skipBadRecords?: boolean;
  readonly heartbeatMs: number;
  readonly leaseTimeoutMs: number;
  /** An attempt running longer than this is failed and its worker replaced (0: no limit). */
  readonly taskTimeoutMs?: number;
  /** A streaming job's commands (Hadoop Streaming); workers run them instead of the bundle. */
  readonly streaming?: StreamingSpec;
  /** Address to listen on; loopback by default. */
  readonly listenHost?: string;
  /** Port to listen on; any free port by default. */
  readonly listenPort?: number;
  /** The URL workers are given, when it differs from the listening address (0.0.0.0, a pod IP). */
  readonly advertiseUrl?: string;
  /** The per-job secret workers present; random by default. */
  readonly token?: string;
  /** Where the master says what it decides (registrations, losses, commits); silent by default. */
  readonly log?: (line: string) => void;
  /** Where the master's policies read the time; the system's monotonic clock by default. */
  readonly clock?: Clock;
}

/** What a worker learns of its job when it registers. */
export function jobInfo(o: MasterOptions): JobInfo {
  return {
    protocol: PROTOCOL_VERSION,
    jobId: o.jobId,
    jobName: o.jobName,
    bundle: o.layout.bundle,
    workDir: o.layout.workDir,
    reducers: o.reducers,
    maps: o.splits.length,
    params: { ...o.params },
    memoryBytes: o.memoryBytes,
    maxRecordBytes: o.maxRecordBytes,
    heartbeatMs: o.heartbeatMs,
    masterTimeoutMs: 2 * o.leaseTimeoutMs,
    ...(o.streaming !== undefined ? { streaming: o.streaming } : {}),
  };
}
