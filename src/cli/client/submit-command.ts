import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Option, type Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import { parseParam, parsePositiveInt, parseSize } from '../parse.ts';
import { clientAction, printJson, serverOptions, type JsonFlags } from './client-action.ts';
import { openClient } from './session.ts';

interface SubmitFlags extends JsonFlags {
  readonly input: string[];
  readonly reducers?: number;
  readonly workers?: number;
  readonly splitSize?: number;
  readonly maps?: number;
  readonly param: Record<string, string>;
  readonly wait: boolean;
  readonly mapper?: string;
  readonly reducer?: string;
  readonly combiner?: string;
  readonly file: string[];
}

/** The part of a POST /jobs body that says which job: a built-in, or a module's source text. */
export type JobSource =
  | { readonly example: string }
  | { readonly code: string; readonly language: 'ts' | 'js' }
  | { readonly mapper: string; readonly reducer: string; readonly combiner?: string; readonly files: Record<string, string> };

/** `torpedo submit`: starts a job on the manager, on datasets already uploaded there. */
export function registerSubmitCommand(program: Command): void {
  serverOptions(
    program
      .command('submit')
      .description('submit a job to the manager and print its id (--wait: follow it to the end)')
      .argument('[job]', 'a built-in example (wordcount, grep, inverted-index, sort) or a job module file (.ts/.js/.mjs); not with --mapper')
      .requiredOption('-i, --input <datasets...>', 'names of your datasets to read')
      .option('-r, --reducers <n>', 'number of reduce tasks and part files (manager default: 2)', parsePositiveInt)
      .option('-w, --workers <n>', 'number of worker processes (manager default: 2)', parsePositiveInt)
      .addOption(new Option('--split-size <size>', 'bytes per map task, e.g. 16MB').argParser(parseSize).conflicts('maps'))
      .addOption(new Option('--maps <n>', 'number of map tasks (instead of --split-size)').argParser(parsePositiveInt))
      .option('-p, --param <key=value>', 'job parameter, repeatable (ctx.params)', parseParam, {})
      .option('--wait', 'follow the job with a progress bar; exit 0 if it succeeded, 1 if not', false)
      .option('--mapper <command>', "streaming job: command reading input lines, writing key<TAB>value lines (e.g. 'python3 mapper.py')")
      .option('--reducer <command>', 'streaming job: command reading sorted key<TAB>value lines, writing output lines')
      .option('--combiner <command>', 'streaming job: optional map-side combiner command')
      .option('--file <path>', 'streaming job: a file sent along, in each task\'s working directory; repeatable', (v: string, all: string[]) => [...all, v], [] as string[]),
    { json: true },
  ).action(clientAction(submit));
}

async function submit(job: string | undefined, flags: SubmitFlags): Promise<number> {
  const source = flags.mapper !== undefined || flags.reducer !== undefined ? streamingSource(job, flags) : jobSource(job);
  const client = openClient(flags.server);
  const answer = await client.json<{ id: string }>('POST', '/jobs', {
    json: {
      ...source,
      inputs: flags.input,
      ...(flags.reducers !== undefined ? { reducers: flags.reducers } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags.splitSize !== undefined ? { splitSize: flags.splitSize } : {}),
      ...(flags.maps !== undefined ? { maps: flags.maps } : {}),
      params: flags.param,
    },
  });
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
  const files: Record<string, string> = {};
  for (const f of flags.file) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `--file ${f}: no such file`);
    files[basename(f)] = readFileSync(f, 'utf8');
  }
  return { mapper: flags.mapper, reducer: flags.reducer, ...(flags.combiner !== undefined ? { combiner: flags.combiner } : {}), files };
}
