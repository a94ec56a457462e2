import { join } from 'node:path';
import { PROTOCOL_VERSION, type JobInfo } from '../protocol/messages.ts';
import type { Split } from '../input/splits.ts';
import { pickSettings, WORKER_SETTINGS, type JobSettings } from '../protocol/job-settings.ts';
import type { StreamingSpec } from '../streaming/streaming-spec.ts';
import type { Clock } from './clock.ts';
import type { JobLayout } from './job-layout.ts';

/** The settings a master needs; those of MasterSpec's that it does not read may be left out. */
type MasterSettings = Pick<JobSettings, 'reducers' | 'workers' | 'maxAttempts' | 'leaseTimeoutMs' | (typeof WORKER_SETTINGS)[number]> &
  Partial<Pick<JobSettings, 'backupTasks' | 'skipBadRecords' | 'taskTimeoutMs'>>;

/**
 * What a master runs: a job's settings (src/protocol/job-settings.ts; a MasterSpec has them all),
 * what was planned for it, and where this master listens.
 */
export interface MasterOptions extends MasterSettings {
  readonly jobId: string;
  readonly jobName: string;
  readonly layout: JobLayout;
  readonly splits: readonly Split[];
  readonly hasSetup: boolean;
  /** A streaming job's commands (Hadoop Streaming); workers run them instead of the bundle. */
  readonly streaming?: StreamingSpec;
  /** A JavaScript job's side files by name, in the job directory's files/ (`ctx.files`). */
  readonly sideFiles?: readonly string[];
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
    ...pickSettings(o, WORKER_SETTINGS),
    maps: o.splits.length,
    masterTimeoutMs: 2 * o.leaseTimeoutMs,
    ...(o.streaming !== undefined ? { streaming: o.streaming } : {}),
    ...(o.sideFiles !== undefined && o.sideFiles.length > 0 ? { files: Object.fromEntries(o.sideFiles.map((f) => [f, join(o.layout.files, f)])) } : {}),
  };
}
