import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { EXAMPLE_NAMES } from '../../../examples/names.ts';
import { TorpedoError } from '../../errors.ts';
import { API_SETTINGS, type JobSettings } from '../../protocol/job-settings.ts';
import { parseParam } from '../parse.ts';
import { addPodOptions, podRequestOf } from '../pod-options.ts';
import { addSettingOptions } from '../setting-options.ts';
import { clientAction, printJson, serverOptions, type JsonFlags } from './client-action.ts';
import type { ApiClient } from './api-client.ts';
import type { Dataset } from './api-types.ts';
import { uploadDataset } from './datasets-command.ts';
import { askLine, canPrompt } from './prompt.ts';
import { openClient } from './session.ts';

interface SubmitFlags extends JsonFlags {
  readonly name?: string;
  readonly input: string[];
  readonly param: Record<string, string>;
  readonly wait: boolean;
  readonly mapper?: string;
  readonly reducer?: string;
  readonly combiner?: string;
  readonly file: string[];
  readonly upload: boolean;
}

/** The part of a POST /jobs body that says which job: a built-in, or a module's source text. */
export type JobSource =
  | { readonly example: string }
  | { readonly code: string; readonly language: 'ts' | 'js' }
  | { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: Record<string, string> };

/** `torpedo submit`: starts a job on the manager, on datasets already uploaded there. */
export function registerSubmitCommand(program: Command): void {
  const command = program
    .command('submit')
    .description('submit a job to the manager and print its id (--wait: follow it to the end)')
    .argument('[job]', `a built-in example (${EXAMPLE_NAMES.join(', ')}) or a job module file (.ts/.js/.mjs); not with --mapper`)
    .requiredOption('-i, --input <datasets...>', 'names of your datasets to read');
  // The settings users may give the manager, from the one table; unset ones are the manager's to decide.
  const settingsOf = addSettingOptions(command, API_SETTINGS, 'api');
  addPodOptions(command);
  serverOptions(
    command
      .option('--name <name>', 'a name for the job, to find it by (torpedo jobs --name)')
      .option('-p, --param <key=value>', 'job parameter, repeatable (ctx.params)', parseParam, {})
      .option('--upload', 'an --input that is a local file (and no dataset of yours) is uploaded first, as a dataset named after the file', false)
      .option('--wait', 'follow the job with a progress bar; exit 0 if it succeeded, 1 if not', false)
      .option('--mapper <command>', "streaming job: command reading input lines, writing key<TAB>value lines (e.g. 'python3 mapper.py')")
      .option('--reducer <command>', 'streaming job: command reading sorted key<TAB>value lines, writing output lines')
      .option('--combiner <command>', 'streaming job: optional map-side combiner command')
      .option('--file <path>', "a side file sent along: a streaming job finds it in each task's working directory, a JavaScript or TypeScript job reads it at ctx.files[name]; repeatable", (v: string, all: string[]) => [...all, v], [] as string[]),
    { json: true },
  ).action(clientAction((job: string | undefined, flags: SubmitFlags) => submit(job, flags, settingsOf(flags as unknown as Record<string, unknown>))));
}

async function submit(job: string | undefined, flags: SubmitFlags, settings: Partial<JobSettings>): Promise<number> {
  const streaming = flags.mapper !== undefined || flags.reducer !== undefined;
  const source = streaming ? streamingSource(job, flags) : { ...jobSource(job), ...(flags.file.length > 0 ? { files: sideFiles(flags.file) } : {}) };
  const client = openClient(flags.server);
  const inputs = await datasetInputs(client, flags.input, flags.upload);
  const pods = podRequestOf(flags);
  const answer = await client.json<{ id: string }>('POST', '/jobs', {
    json: {
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...source,
      inputs,
      ...settings,
      params: flags.param,
      ...(pods !== undefined ? { pods } : {}),
    },
  });
  return reportSubmitted(client, answer, flags);
}

/**
 * What `submit` and `rerun` print of the job they created: its id (or `--json` the answer); with
 * `--wait`, the id, then the job followed to its end (exit 0 if it succeeded, 1 if not).
 */
export async function reportSubmitted(client: ApiClient, answer: { readonly id: string }, flags: JsonFlags & { readonly wait: boolean }): Promise<number> {
  if (!flags.wait) {
    if (flags.json) printJson(answer);
    else process.stdout.write(`${answer.id}\n`);
    return 0;
  }
  // The id first, so that a script (or a user who stops waiting) has it at once.
  if (!flags.json) process.stdout.write(`${answer.id}\n`);
  const { watchJob, reportEnd } = await import('./watch-job.ts');
  const final = await watchJob(client, answer.id);
  // With --json --wait the one JSON line is the final job, which carries the id as well.
  if (flags.json) printJson(final);
  return reportEnd(final);
}

/**
 * The inputs as dataset names. A job on the manager reads datasets, not the caller's files; an
 * input that is a local file and not the name of one of the user's datasets is uploaded (with
 * --upload, or if the user says yes on a terminal) or refused with the command that uploads it.
 * A dataset of that name wins over the file, so that `-i books.txt` means what it meant before.
 */
async function datasetInputs(client: ApiClient, inputs: readonly string[], upload: boolean): Promise<string[]> {
  const local = inputs.filter((i) => existsSync(i) && statSync(i).isFile());
  if (local.length === 0) return [...inputs];
  const mine = new Set((await client.json<{ datasets: Dataset[] }>('GET', '/datasets')).datasets.map((d) => d.name));
  const names: string[] = [];
  for (const input of inputs) {
    if (!local.includes(input) || mine.has(input)) {
      names.push(input);
      continue;
    }
    const name = basename(input);
    if (!upload && !(canPrompt() && /^y(es)?$/i.test(await askLine(`${input} is a local file; upload it as the dataset ${name} and read that? [y/N] `)))) {
      throw new TorpedoError(
        'TORPEDO_ERR_INPUT_NOT_FOUND',
        `${input} is a local file, not one of your datasets on the manager: upload it with \`torpedo datasets upload ${input}\` and pass -i ${name}, or add --upload`,
      );
    }
    if (mine.has(name)) {
      throw new TorpedoError('TORPEDO_ERR_CONFLICT', `you already have a dataset ${name}: pass -i ${name} to read it, or replace it with \`torpedo datasets upload ${input} --overwrite\``);
    }
    const dataset = await uploadDataset(client, input, name, false);
    process.stderr.write(`uploaded ${input} as the dataset ${dataset.name}\n`);
    mine.add(dataset.name);
    names.push(dataset.name);
  }
  return names;
}

/**
 * An existing file is sent as code (JavaScript for .js and .mjs, else TypeScript); anything
 * else names a built-in example. Something that looks like a file but is missing is a typo of a
 * path, and saying so beats the manager's "no example named ./jobs/wc.ts".
 */
export function jobSource(job: string | undefined): JobSource {
  if (job === undefined) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'give a job (a built-in example or a job file), or --mapper and --reducer');
  if (existsSync(job) && statSync(job).isFile()) {
    const language = ['.js', '.mjs'].includes(extname(job).toLowerCase()) ? 'js' : 'ts';
    return { code: readFileSync(job, 'utf8'), language };
  }
  if (/[/\\]|\.(m|c)?[jt]s$/i.test(job)) throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `no job file ${job}`);
  return { example: job };
}

/** A streaming job: its commands, and the `--file` files' text keyed by their base names. */
function streamingSource(job: string | undefined, flags: SubmitFlags): JobSource {
  if (job !== undefined) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `give either a job (${JSON.stringify(job)}) or --mapper/--reducer, not both`);
  if (flags.mapper === undefined || flags.reducer === undefined) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'a streaming job needs both --mapper and --reducer');
  return { mapper: flags.mapper, reducer: flags.reducer, ...(flags.combiner !== undefined ? { combiner: flags.combiner } : {}), files: sideFiles(flags.file) };
}

/** The `--file` files' text keyed by their base names, as POST /jobs takes them. */
function sideFiles(paths: readonly string[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of paths) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `--file ${f}: no such file`);
    files[basename(f)] = readFileSync(f, 'utf8');
  }
  return files;
}
