import { pathToFileURL } from 'node:url';
import type { Job } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';
import { parseParamDeclarations } from '../protocol/job-params.ts';

/** A job module's default export, checked to have the functions the engine calls. */
export async function loadJob(bundlePath: string, displayName = bundlePath): Promise<Job> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(bundlePath).href)) as { default?: unknown };
  } catch (e) {
    const err = e as Error;
    throw new TorpedoError('TORPEDO_ERR_USER_CODE', `${displayName}: loading the job module threw: ${err.message}`, {
      userStack: err.stack,
    });
  }
  return checkJobShape(mod.default, displayName);
}

/**
 * The checks on a module's default export that need no run: its functions are functions, and its
 * `params`, if declared, are plain data of the declared shape. TORPEDO_ERR_JOB_SHAPE otherwise.
 */
export function checkJobShape(job: unknown, displayName: string): Job {
  if (typeof job !== 'object' || job === null) {
    throw new TorpedoError(
      'TORPEDO_ERR_JOB_SHAPE',
      `${displayName}: the module has no default export object (write \`export default defineJob({ map, reduce })\`)`,
    );
  }
  const j = job as Record<string, unknown>;
  if (typeof j['map'] !== 'function') throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${displayName}: the default export has no \`map\` function`);
  // `reduce` may be left out by a map-only job (--reducers 0); prepareJob refuses a job without one otherwise.
  for (const fn of ['reduce', 'combine', 'partition', 'setup', 'mapBytes'] as const) {
    if (j[fn] !== undefined && typeof j[fn] !== 'function') {
      throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${displayName}: \`${fn}\` must be a function if given`);
    }
  }
  parseParamDeclarations(j['params'], displayName);
  return job as Job;
}
