import { z } from 'zod';
import { TorpedoError } from '../errors.ts';
import { firstIssue } from './schema-issue.ts';

/**
 * A job's declared parameters (the job API's `params`, src/api/job.ts): plain data that the job
 * module exports and torpedo reads. It crosses processes: the sandboxed probe that loads a
 * bundle (src/job/probe-job.ts, a compile pod's answer on Kubernetes) reports it, and whoever
 * runs a job checks the parameters it was given against it before any task runs.
 */
export const ParamSpecSchema = z.strictObject({
  required: z.boolean().optional(),
  help: z.string().max(500).optional(),
});

export const ParamDeclarationsSchema = z.record(z.string().min(1).max(100), ParamSpecSchema);

export type ParamDeclarations = z.infer<typeof ParamDeclarationsSchema>;

/**
 * The `params` of a job module's default export, checked: undefined if it declares none.
 * Who calls: checkJobShape (src/worker/load-job.ts), in the probe and in workers; a declaration
 * that is not plain data of this shape (a typo such as `requried`) is TORPEDO_ERR_JOB_SHAPE.
 */
export function parseParamDeclarations(value: unknown, jobName: string): ParamDeclarations | undefined {
  if (value === undefined) return undefined;
  const parsed = ParamDeclarationsSchema.safeParse(value);
  if (!parsed.success) {
    throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${jobName}: \`params\` must map each parameter's name to { required?: boolean, help?: string }; ${firstIssue(parsed.error)}`);
  }
  return parsed.data;
}

/** How a refusal tells the user to give a parameter: `--param name=VALUE`, or the API's `params.name`. */
export type ParamSpelling = (name: string) => string;

export const CLI_SPELLING: ParamSpelling = (name) => `--param ${name}=VALUE`;
export const API_SPELLING: ParamSpelling = (name) => `"params": {"${name}": "…"}`;

/**
 * Refuses parameters that cannot succeed, before any task runs: a required one missing or empty,
 * or one the job does not declare (with the list of those it takes). A job that declares no
 * `params` takes any. TORPEDO_ERR_BAD_FLAG (exit 2 in `torpedo run`, 400 in POST /jobs).
 * Who calls: prepareJob (src/job/run-local-job.ts) for `torpedo run` and the manager's runs, and
 * the manager's submit (src/manager/job-scheduler.ts), so that POST /jobs refuses at once.
 */
export function checkParams(declared: ParamDeclarations | undefined, given: Readonly<Record<string, string>>, jobName: string, spell: ParamSpelling): void {
  if (declared === undefined) return;
  const known = Object.keys(declared);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      const takes = known.length === 0 ? 'it takes no parameters' : `it takes ${known.map((n) => describeParam(n, declared)).join('; ')}`;
      throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `${jobName} has no parameter ${JSON.stringify(name)}: ${takes}`);
    }
  }
  for (const name of known) {
    if (declared[name]?.required === true && (given[name] ?? '') === '') {
      const help = declared[name]?.help;
      throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `${jobName} needs the parameter ${JSON.stringify(name)}${help !== undefined && help !== '' ? ` (${help})` : ''}: give ${spell(name)}`);
    }
  }
}

/** `"pattern" (required: a regular expression)`, for the list of the parameters a job takes. */
function describeParam(name: string, declared: ParamDeclarations): string {
  const spec = declared[name];
  const notes = [spec?.required === true ? 'required' : 'optional', spec?.help].filter((n) => n !== undefined && n !== '');
  return `${JSON.stringify(name)} (${notes.join(': ')})`;
}
