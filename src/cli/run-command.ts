import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { EXAMPLE_NAMES } from '../../examples/names.ts';
import { explainNoSpace, isTorpedoError } from '../errors.ts';
import { layoutForOutput } from '../master/job-layout.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { Master } from '../master/master.ts';
import { SETTING_NAMES, type JobSettings } from '../protocol/job-settings.ts';
import { parseParam } from './parse.ts';
import { addSettingOptions } from './setting-options.ts';

/** The flags that are not job settings; those are read through `addSettingOptions`. */
interface RunFlags {
  input: string[];
  output: string;
  param: Record<string, string>;
  force: boolean;
  resume: boolean;
  json: boolean;
  typecheck: boolean;
  progress: boolean;
  verbose: boolean;
  sandbox: boolean;
  mapper?: string;
  reducer?: string;
  combiner?: string;
  file: string[];
  prepareOnly: boolean;
}

/** `torpedo run <job>`: runs a job on this machine with a local master and worker processes. */
export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('run a MapReduce job on this machine')
    .argument('[job]', `a built-in example (${EXAMPLE_NAMES.join(', ')}) or a job module (.ts/.js/.mjs); not with --mapper`)
    .requiredOption('-i, --input <paths...>', 'input files or directories (directories are read recursively; symbolic links are followed)')
    .requiredOption('-o, --output <dir>', 'output directory (must not exist unless --force)');
  const settingsOf = addSettingOptions(command, SETTING_NAMES, 'engine');
  command
    .option('-p, --param <key=value>', 'job parameter, repeatable (ctx.params)', parseParam, {})
    .option('--force', 'replace the output directory if it exists', false)
    .option('--resume', 'continue an interrupted run of the same command: committed tasks are not run again', false)
    .option('--json', 'print one JSON summary on stdout at the end', false)
    .option('--no-typecheck', 'skip type-checking a TypeScript job file')
    .option('--no-progress', 'do not show the progress bar')
    .option('-v, --verbose', "copy the workers' logs to stderr: their own lines and what user code writes to stdout and stderr", false)
    .option('--no-sandbox', "do not confine workers with Node's permission model (they can then read and write any file)")
    .option('--mapper <command>', "streaming job: a command that reads input lines on stdin and writes key<TAB>value lines (e.g. 'python3 mapper.py')")
    .option('--reducer <command>', "streaming job: a command that reads its partition's key<TAB>value lines, sorted by key, and writes output lines")
    .option('--combiner <command>', 'streaming job: a command run on each map task\'s sorted output, per partition, like the reducer')
    .option('--prepare-only', 'only check the job and write its directory (OUTPUT/_temporary with job.json), for `torpedo master --job`; prints the directory', false)
    .option('--file <path>', "a side file: a streaming job finds it in each task's working directory, a JavaScript or TypeScript job reads it at ctx.files[name]; repeatable", (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (job: string | undefined, flags: RunFlags) => {
      const usage = streamingUsage(job, flags);
      if (usage !== undefined) {
        process.stderr.write(`torpedo run: ${usage}\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await run(job ?? 'streaming', flags, settingsOf(flags as unknown as Record<string, unknown>));
    });
}

/** What is wrong with the combination of a job argument and the streaming flags, if anything. */
function streamingUsage(job: string | undefined, flags: RunFlags): string | undefined {
  const streaming = flags.mapper !== undefined || flags.reducer !== undefined || flags.combiner !== undefined;
  if (!streaming) {
    if (job === undefined) return 'give a job (a built-in example or a job module), or --mapper and --reducer for a streaming job';
    return undefined;
  }
  if (job !== undefined) return `give either a job (${JSON.stringify(job)}) or --mapper/--reducer, not both`;
  // A map-only streaming job (--reducers 0) needs no reducer, as Hadoop Streaming's -reducer NONE.
  if (flags.mapper === undefined || (flags.reducer === undefined && (flags as { reducers?: number }).reducers !== 0)) return 'a streaming job needs both --mapper and --reducer (or --reducers 0, map-only)';
  return undefined;
}

async function run(job: string, flags: RunFlags, settings: Partial<JobSettings>): Promise<number> {
  // Imported here, not at the top: worker processes share this bundle and need none of it.
  const [{ runLocalJob, prepareJob }, { ProgressDisplay }, { formatSummary }] = await Promise.all([
    import('../job/run-local-job.ts'),
    import('./progress-display.ts'),
    import('./summary-format.ts'),
  ]);
  const display = flags.progress && !flags.json ? new ProgressDisplay(process.stderr) : undefined;
  const interrupt = new Interrupt(flags.output, () => display?.stop());
  let summary: JobSummary;
  try {
    const options: Parameters<typeof runLocalJob>[0] = {
      job,
      ...(flags.mapper !== undefined
        ? { streaming: { mapper: flags.mapper, reducer: flags.reducer ?? 'NONE', ...(flags.combiner !== undefined ? { combiner: flags.combiner } : {}), files: flags.file } }
        : flags.file.length > 0
          ? { files: flags.file }
          : {}),
      inputs: flags.input,
      output: flags.output,
      ...settings,
      params: flags.param,
      force: flags.force,
      resume: flags.resume,
      typecheck: flags.typecheck,
      verbose: flags.verbose,
      sandbox: flags.sandbox,
      onStart: (master) => {
        interrupt.master = master;
        display?.watch(master);
      },
    };
    if (flags.prepareOnly) {
      const prepared = await prepareJob({ ...options, workersHere: false });
      process.stdout.write(`${'complete' in prepared ? prepared.complete.output : prepared.layout.workDir}\n`);
      return 0;
    }
    summary = await runLocalJob(options);
  } catch (thrown) {
    interrupt.release();
    display?.stop();
    // A full storage while the job directory is written: a message, not a crash (exit 70).
    const e = explainNoSpace(thrown);
    if (!isTorpedoError(e)) throw e;
    if (flags.json) process.stdout.write(`${JSON.stringify({ status: 'failed', error: { code: e.code, message: e.message } })}\n`);
    process.stderr.write(`torpedo: error ${e.code}: ${e.message}\n`);
    return 2;
  }
  interrupt.release();
  display?.stop();
  // The error first, then the summary: on a terminal the reason a job failed is what is read first.
  if (summary.status !== 'succeeded') printFailure(summary);
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(formatSummary(summary));
  if (interrupt.happened && summary.status !== 'succeeded') {
    process.stderr.write(interrupt.resumeHint());
    return 130;
  }
  return summary.status === 'succeeded' ? 0 : 1;
}

/**
 * A failed job's error on stderr: its code and message, the user code's stack if it threw (the
 * workers send only the frames of user code), and where the workers' logs are, which have the rest.
 */
function printFailure(summary: JobSummary): void {
  const err = summary.error;
  process.stderr.write(`torpedo: job failed: ${err?.code ?? ''} ${err?.message ?? ''}\n`);
  if (err?.stack) process.stderr.write(`${err.stack.replace(/^/gm, '    ')}\n`);
  process.stderr.write(`torpedo: each attempt's log: torpedo logs ${summary.output} [TASK]; worker logs are in ${summary.output}/_temporary/logs/\n`);
}

/**
 * Ctrl-C during `torpedo run` (SIGINT). Once the master runs, it ends the job now, as the manager
 * cancels one: the workers stop, and committed task outputs stay in OUTPUT/_temporary; `run`
 * then prints the summary, says how to continue (the same command with --resume) and exits 130.
 * Before the master runs there is nothing to wait for: it exits at once, with the same advice if
 * the job directory was written. A second Ctrl-C exits at once. Created and released by `run`.
 */
class Interrupt {
  /** Set by `run` once the job's master exists (onStart). */
  master: Master | undefined;
  happened = false;
  readonly #output: string;
  readonly #beforeExit: () => void;
  readonly #listener = (): void => this.#onSignal();

  constructor(output: string, beforeExit: () => void) {
    this.#output = output;
    this.#beforeExit = beforeExit;
    process.on('SIGINT', this.#listener);
  }

  release(): void {
    process.off('SIGINT', this.#listener);
  }

  /** What to run to continue: this very command with --resume, or a fresh start. */
  resumeHint(): string {
    if (!existsSync(layoutForOutput(this.#output).spec)) return 'torpedo: interrupted before the job started; nothing ran\n';
    return `torpedo: interrupted; the committed tasks are kept. To continue, run:\n  ${resumeCommand(process.argv.slice(2))}\n`;
  }

  #onSignal(): void {
    if (this.happened || this.master === undefined) {
      this.#beforeExit();
      if (!this.happened) process.stderr.write(this.resumeHint());
      process.exit(130);
    }
    this.happened = true;
    this.#beforeExit();
    process.stderr.write('torpedo: interrupted (Ctrl-C): stopping the workers; Ctrl-C again to quit at once\n');
    this.master.abort({ code: 'TORPEDO_ERR_CANCELLED', message: 'interrupted (Ctrl-C); continue with --resume' });
  }
}

/**
 * The command line that continues an interrupted `torpedo run`: `args` (the arguments after the
 * program) with `--resume` added, quoted for a POSIX shell. Exported for its unit test.
 */
export function resumeCommand(args: readonly string[]): string {
  const words = args.includes('--resume') ? args : [...args, '--resume'];
  return ['torpedo', ...words.map(shellWord)].join(' ');
}

/** `word` as a POSIX shell reads it back: bare when safe, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
