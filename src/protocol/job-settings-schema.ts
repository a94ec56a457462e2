import { z } from 'zod';
import { JOB_SETTINGS, SETTING_NAMES, WORKER_SETTINGS, type JobSettings, type SettingSpec } from './job-settings.ts';

type Shape = { [K in keyof JobSettings]: z.ZodType<JobSettings[K]> };

/**
 * The schema of every setting, from the table: a limit whose default is 0 may be 0 (none). A
 * setting missing takes its default: a job.json written by a version before the setting existed
 * (`--resume` after an upgrade; `logCapBytes`, `mergeFactor`) still loads.
 */
function shape(): Shape {
  const out: Record<string, z.ZodType> = {};
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = JOB_SETTINGS[name];
    const d = spec.default;
    if (spec.kind === 'choice') {
      out[name] = z.enum(spec.choices as [string, ...string[]]).default(d as string);
      continue;
    }
    if (spec.kind === 'flag') {
      out[name] = typeof d === 'boolean' ? z.boolean().default(d) : z.boolean();
      continue;
    }
    const n = d === 0 || spec.min === 0 ? z.number().int().nonnegative() : z.number().int().positive();
    // 'cores' (workers) is resolved when the job is planned: job.json always has the number.
    out[name] = d === null ? n.nullable().default(null) : typeof d === 'number' ? n.default(d) : n;
  }
  out['heartbeatMs'] = z.number().int().positive();
  out['params'] = z.record(z.string(), z.string());
  return out as Shape;
}

/** A job's settings as job.json stores them (src/master/master-spec.ts). */
export const JobSettingsSchema = z.object(shape());

/** The settings a worker receives in JobInfo. */
export const WorkerSettingsSchema = JobSettingsSchema.pick(Object.fromEntries(WORKER_SETTINGS.map((k) => [k, true])) as { [K in (typeof WORKER_SETTINGS)[number]]: true });
