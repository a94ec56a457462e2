import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { TorpedoError } from '../errors.ts';
import type { AttemptLogEntry } from '../protocol/attempt-logs.ts';
import type { ApiClient } from './client/api-client.ts';
import { TASK_NAME } from '../protocol/task-names.ts';
import { clientAction, printJson, serverOptions, type ServerFlags } from './client/client-action.ts';
import { formatBytes, table } from './client/format.ts';

interface LogsFlags extends ServerFlags {
  readonly attempt?: number;
  readonly follow: boolean;
  readonly list: boolean;
  readonly json: boolean;
}

/** How often `--follow` looks for more. */
const FOLLOW_POLL_MS = 500;

/**
 * Where `torpedo logs` reads attempts' logs (protocol/attempt-logs.ts): a local output directory,
 * or a manager's job through its REST API. Each method is called once per look, `--follow`
 * looking every FOLLOW_POLL_MS.
 */
interface LogSource {
  /** The job's kept logs, in task then attempt order. */
  list(): Promise<AttemptLogEntry[]>;
  /** Attempt `attemptId`'s log from byte `offset` on, and the offset to read from next. */
  read(attemptId: string, offset: number): Promise<{ text: Buffer; next: number }>;
  /** Whether the job may still write logs (queued or running). */
  running(): Promise<boolean>;
}

/**
 * `torpedo logs JOB [TASK] [--attempt N] [--follow]`: the logs attempts kept (what user code wrote
 * to stdout and stderr, and the worker's lines about the attempt), after the job as while it runs.
 * JOB is a job's output directory (`torpedo run`) or, if no such directory exists, a manager's job
 * id. Without TASK, every attempt's log, each under a `==> ATTEMPT <==` line; with TASK, its last
 * attempt's (or attempt N's). `--follow` prints what is added until the job ends.
 */
export function registerLogsCommand(program: Command): void {
  serverOptions(
    program
      .command('logs')
      .description("print attempts' logs: what user code wrote to stdout and stderr, and the worker's lines about each attempt")
      .argument('<job>', "the job's output directory (torpedo run), or a job id of the manager")
      .argument('[task]', 'a task, e.g. map-00003 or reduce-00000 (default: every attempt of the job)', parseTask)
      .option('--attempt <n>', "the task's attempt N, 0 for the first (default: its last)", parseAttemptNumber)
      .option('-f, --follow', 'keep printing what is added until the job ends', false)
      .option('--list', 'list the kept logs (attempt, task, size) instead of printing them', false)
      .option('--json', 'with --list: as JSON', false),
    { json: false },
  ).action(
    clientAction(async (job: string, task: string | undefined, flags: LogsFlags) => {
      if (flags.attempt !== undefined && task === undefined) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', '--attempt needs a TASK: torpedo logs JOB TASK --attempt N');
      const source = await openSource(job, flags.server);
      return printLogs(source, job, task, flags);
    }),
  );
}

/** TASK is a task's name, never a path: `../x` is refused before anything is read. */
function parseTask(text: string): string {
  if (!TASK_NAME.test(text)) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a task name such as map-00003 or reduce-00000 (--list shows the job's)`);
  return text;
}

function parseAttemptNumber(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`${JSON.stringify(text)} is not an attempt number (0 for the first)`);
  return Number(text);
}

async function openSource(job: string, server: string | undefined): Promise<LogSource> {
  if (existsSync(job) && statSync(job).isDirectory()) return localSource(resolve(job));
  if (job.includes('/')) throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no output directory ${JSON.stringify(job)}, and a job id of the manager has no '/'`);
  const { openClient } = await import('./client/session.ts');
  return managerSource(openClient(server), job);
}

async function localSource(output: string): Promise<LogSource> {
  const [{ listAttemptLogs, readAttemptLog }, { layoutForOutput, masterRunning }] = await Promise.all([import('../protocol/attempt-logs.ts'), import('../master/job-layout.ts')]);
  const layout = layoutForOutput(output);
  return {
    list: () => listAttemptLogs(output),
    read: async (attemptId, offset) => {
      const { bytes } = await readAttemptLog(output, attemptId, offset);
      return { text: bytes, next: offset + bytes.length };
    },
    running: async () => masterRunning(layout),
  };
}

async function managerSource(client: ApiClient, id: string): Promise<LogSource> {
  const path = `/jobs/${encodeURIComponent(id)}`;
  return {
    list: async () => (await client.json<{ logs: AttemptLogEntry[] }>('GET', `${path}/logs`)).logs,
    read: async (attemptId, offset) => {
      const res = await client.request('GET', `${path}/logs/${attemptId}`, { query: { offset: String(offset) } });
      const text = Buffer.from(await res.arrayBuffer());
      // The manager shows its storage paths job-relative, so the text may be shorter than the bytes read.
      return { text, next: Number(res.headers.get('x-torpedo-log-next') ?? offset + text.length) };
    },
    running: async () => {
      const { status } = await client.json<{ status: string }>('GET', path);
      return status === 'queued' || status === 'running';
    },
  };
}

/**
 * Prints the chosen logs; following, looks again until the job has ended, then once more for
 * what its last moments wrote. Exit 0, or 1 when TASK has no log (yet) and the job has ended.
 */
async function printLogs(source: LogSource, job: string, task: string | undefined, flags: LogsFlags): Promise<number> {
  const offsets = new Map<string, number>();
  let current: string | undefined;
  const choose = (logs: AttemptLogEntry[]): AttemptLogEntry[] => {
    if (task === undefined) return logs;
    const ofTask = logs.filter((l) => l.task === task);
    const one = flags.attempt === undefined ? ofTask.at(-1) : ofTask.find((l) => l.attempt === flags.attempt);
    return one === undefined ? [] : [one];
  };
  const look = async (): Promise<number> => {
    const chosen = choose(await source.list());
    for (const entry of chosen) {
      const from = offsets.get(entry.attemptId) ?? 0;
      if (entry.bytes <= from && offsets.has(entry.attemptId)) continue;
      const { text, next } = await source.read(entry.attemptId, from);
      offsets.set(entry.attemptId, next);
      if (text.length === 0 && current !== undefined) continue;
      // A header when the job's logs are shown together, or when --follow moves to a task's next attempt.
      if (current !== entry.attemptId && (task === undefined || current !== undefined)) process.stdout.write(`${current !== undefined ? '\n' : ''}==> ${entry.attemptId} <==\n`);
      current = entry.attemptId;
      process.stdout.write(text);
    }
    return chosen.length;
  };
  if (flags.list || flags.json) {
    const logs = choose(await source.list());
    if (flags.json) printJson({ logs });
    else process.stdout.write(table(['ATTEMPT', 'TASK', 'SIZE'], logs.map((l) => [l.attemptId, l.task, formatBytes(l.bytes)])));
    return 0;
  }
  if (!flags.follow) {
    if ((await look()) === 0) throw noLog(job, task, flags.attempt);
    return 0;
  }
  for (;;) {
    const running = await source.running();
    await look();
    if (!running) break;
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
  if (offsets.size === 0) throw noLog(job, task, flags.attempt);
  return 0;
}

function noLog(job: string, task: string | undefined, attempt: number | undefined): TorpedoError {
  const what = task === undefined ? `job ${job} has no attempt logs` : attempt === undefined ? `task ${task} has no attempt log` : `attempt ${attempt} of ${task} has no log`;
  return new TorpedoError('TORPEDO_ERR_NOT_FOUND', `${what} (\`torpedo logs ${job} --list\` lists what is kept)`);
}
