import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import { writeFileAtomically } from './atomic-write.ts';
import { JobSettingsSchema } from '../protocol/job-settings-schema.ts';
import { SplitSchema } from '../protocol/messages.ts';
import { PodRequestSchema } from '../protocol/pod-settings.ts';
import { StreamingSpecSchema } from '../streaming/streaming-spec.ts';

/**
 * Everything a master needs to run (or resume) a job, written by whoever prepares the job
 * (`torpedo run`, the manager) to `OUTPUT/_temporary/job.json` next to the bundle. `torpedo master
 * --job DIR` reads it; so does a master that Kubernetes restarts, which then resumes from the
 * committed tasks. All paths are absolute and must mean the same on every host (shared storage).
 */
export const MasterSpecSchema = z.object({
  jobId: z.string().min(1),
  /** What the user named: a built-in example, a job file, or `streaming`. */
  job: z.string(),
  /** How errors name the job. */
  jobName: z.string(),
  inputs: z.array(z.string()),
  /**
   * Real paths outside the inputs that symbolic links inside them lead to (listInputs): local
   * workers' sandboxes show them too. Absent in job.json written before it existed.
   */
  linkedInputs: z.array(z.string()).optional(),
  /** A streaming job's commands as the user gave them (`--mapper` …, `--file` paths). */
  commands: z.object({ mapper: z.string(), reducer: z.string(), combiner: z.string().optional(), files: z.array(z.string()) }).optional(),
  /** The output directory; the job directory is `output/_temporary`. */
  output: z.string(),
  /** The map tasks' input, planned once so that a restarted master hands out the same splits. */
  splits: z.array(SplitSchema),
  hasSetup: z.boolean(),
  /** Confine workers (Node's permission model; streaming commands: see confine.ts). */
  sandbox: z.boolean(),
  streaming: StreamingSpecSchema.optional(),
  /** A JavaScript job's side files (`--file`), by name, in its directory's files/: `ctx.files`. */
  sideFiles: z.array(z.string()).optional(),
  /**
   * On Kubernetes, what the job's owner asked of its pods (resources, nodeSelector, tolerations,
   * PriorityClass), within the operator's bounds (src/kubernetes/pod-policy.ts). Absent: the
   * operator's defaults.
   */
  pods: PodRequestSchema.optional(),
  /** The job's settings (src/protocol/job-settings.ts), every one decided. */
  ...JobSettingsSchema.shape,
});

export type MasterSpec = z.infer<typeof MasterSpecSchema>;

/** Accepts the job directory (OUTPUT/_temporary) or its job.json. */
export function specPath(jobDirOrFile: string): string {
  return existsSync(jobDirOrFile) && statSync(jobDirOrFile).isDirectory() ? join(jobDirOrFile, 'job.json') : jobDirOrFile;
}

export function readMasterSpec(jobDirOrFile: string): MasterSpec {
  const path = specPath(jobDirOrFile);
  return parseMasterSpec(readSpecJson(path), path);
}

/** A job.json as it was written, not yet checked (`--resume` compares it with its command). */
export function readSpecJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `cannot read the job spec ${JSON.stringify(path)}: ${(e as Error).message}`);
  }
}

export function parseMasterSpec(raw: unknown, path: string): MasterSpec {
  const parsed = MasterSpecSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `${path} is not a torpedo job spec: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Writes the spec atomically (temp file, then rename; see atomic-write.ts). */
export function writeMasterSpec(path: string, spec: MasterSpec): void {
  writeFileAtomically(path, `${JSON.stringify(spec, null, 2)}\n`);
}
