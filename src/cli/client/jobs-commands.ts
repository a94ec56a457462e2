import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import { PART_NAME } from '../../protocol/task-names.ts';
import type { Job, JobSummary } from './api-types.ts';
import { clientAction, printJson, serverOptions, type JsonFlags, type ServerFlags } from './client-action.ts';
import { formatBytes, formatTime, table } from './format.ts';
import { queueText } from '../../manager/queue-text.ts';
import { saveBody } from './save-body.ts';
import { reportSubmitted } from './submit-command.ts';
import { openClient } from './session.ts';


type ListFlags = JsonFlags & { readonly status?: string; readonly owner?: string; readonly name?: string };

/** `torpedo jobs`, `status`, `cancel`, `delete`, `rerun`, `output`: what happens to submitted jobs. */
export function registerJobsCommands(program: Command): void {
  serverOptions(
    program
      .command('jobs')
      .description('list your jobs, newest first (admins: everyone’s)')
      .option('--status <states>', 'only jobs in these states, comma-separated: queued, running, succeeded, failed, cancelled')
      .option('--owner <user>', 'only the jobs of this user (admins)')
      .option('--name <text>', 'only jobs whose name contains this, ignoring case'),
    { json: true },
  ).action(
    clientAction(async (flags: ListFlags) => {
      const query = new URLSearchParams();
      for (const k of ['status', 'owner', 'name'] as const) if (flags[k] !== undefined) query.set(k, flags[k]);
      const answer = await openClient(flags.server).json<{ jobs: JobSummary[] }>('GET', `/jobs${query.size > 0 ? `?${query}` : ''}`);
      if (flags.json) return printJson(answer);
      const rows = answer.jobs.map((j) => [
        j.id,
        j.name ?? '-',
        j.job,
        j.status,
        j.queue !== undefined ? `queued #${j.queue.position}` : j.phase,
        `${j.progress.done}/${j.progress.total}`,
        formatTime(j.createdAt),
      ]);
      process.stdout.write(table(['ID', 'NAME', 'JOB', 'STATUS', 'PHASE', 'PROGRESS', 'CREATED'], rows));
    }),
  );

  serverOptions(
    program
      .command('status')
      .description("a job's status, phases, counters and error")
      .argument('<id>', 'job id')
      .option('--watch', 'follow the job with a progress bar until it ends; exit 0 if it succeeded, 1 if not', false),
    { json: true },
  ).action(
    clientAction(async (id: string, flags: JsonFlags & { readonly watch: boolean }) => {
      const client = openClient(flags.server);
      let job: Job;
      let code = 0;
      if (flags.watch) {
        const { watchJob, reportEnd } = await import('./watch-job.ts');
        job = await watchJob(client, id);
        if (!flags.json) code = reportEnd(job);
        else code = job.status === 'succeeded' ? 0 : 1;
      } else {
        job = await client.json<Job>('GET', `/jobs/${encodeURIComponent(id)}`);
      }
      if (flags.json) printJson(job);
      else process.stdout.write(describeJob(job));
      return code;
    }),
  );

  serverOptions(program.command('cancel').description('cancel a queued or running job').argument('<id>', 'job id'), { json: true }).action(
    clientAction(async (id: string, flags: JsonFlags) => {
      const job = await openClient(flags.server).json<Job>('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
      if (flags.json) printJson(job);
      else process.stdout.write(`cancelled ${job.id}\n`);
    }),
  );

  serverOptions(
    program.command('delete').description('delete a finished job with its output; a queued or running job is cancelled (delete it again once it has ended)').argument('<id>', 'job id'),
    { json: true },
  ).action(
    clientAction(async (id: string, flags: JsonFlags) => {
      const answer = await openClient(flags.server).json<Job | { id: string; deleted: true }>('DELETE', `/jobs/${encodeURIComponent(id)}`);
      if (flags.json) return printJson(answer);
      if ('deleted' in answer) process.stdout.write(`deleted ${answer.id} and its output\n`);
      else process.stdout.write(`cancelled ${answer.id}; it was ${answer.startedAt === null ? 'queued' : 'running'}. Run \`torpedo delete ${answer.id}\` again to delete it\n`);
    }),
  );

  serverOptions(
    program
      .command('rerun')
      .description('submit a job again with the same job, inputs, settings, parameters and name; prints the new job’s id')
      .argument('<id>', 'job id')
      .option('--wait', 'follow the new job with a progress bar; exit 0 if it succeeded, 1 if not', false),
    { json: true },
  ).action(
    clientAction(async (id: string, flags: JsonFlags & { readonly wait: boolean }) => {
      const client = openClient(flags.server);
      return reportSubmitted(client, await client.json<{ id: string }>('POST', `/jobs/${encodeURIComponent(id)}/rerun`), flags);
    }),
  );

  serverOptions(
    program
      .command('output')
      .description("a succeeded job's output: all parts to stdout, or each part into a directory")
      .argument('<id>', 'job id')
      .option('--out <dir>', 'write each part file (part-r-00000 …) into this directory'),
    { json: false },
  ).action(clientAction(output));
}

async function output(id: string, flags: ServerFlags & { readonly out?: string }): Promise<void> {
  const client = openClient(flags.server);
  const path = `/jobs/${encodeURIComponent(id)}`;
  if (flags.out === undefined) {
    await saveBody(client, await client.request('GET', `${path}/output`), undefined);
    return;
  }
  const job = await client.json<Job>('GET', path);
  if (job.status !== 'succeeded' || job.outputParts === undefined) {
    throw new TorpedoError('TORPEDO_ERR_CONFLICT', `job ${job.id} is ${job.status}; output exists once it has succeeded`);
  }
  const bad = job.outputParts.find((p) => !PART_NAME.test(p));
  if (bad !== undefined) throw new TorpedoError('TORPEDO_ERR_INTERNAL', `the manager named an output part ${JSON.stringify(bad)}; refusing to write it`);
  mkdirSync(flags.out, { recursive: true });
  for (const part of job.outputParts) {
    await saveBody(client, await client.request('GET', `${path}/output/${part}`), join(flags.out, part));
  }
  process.stdout.write(`wrote ${job.outputParts.length} part file${job.outputParts.length === 1 ? '' : 's'} to ${flags.out}\n`);
}

/** The human-readable form of GET /jobs/:id. */
export function describeJob(job: Job): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => void lines.push(`${k.padEnd(10)}${v}`);
  row('id', job.id);
  if (job.name !== null) row('name', job.name);
  row('job', `${job.job} (owner ${job.owner})`);
  row('status', job.status === 'running' ? `running, phase ${job.phase}` : job.queue !== undefined ? `queued, ${queueText(job.queue)}` : job.status);
  row('inputs', `${job.inputs.join(', ')} (${formatBytes(job.inputBytes)})`);
  row('times', `created ${formatTime(job.createdAt)}, started ${formatTime(job.startedAt)}, finished ${formatTime(job.finishedAt)}`);
  row('phases', (['setup', 'map', 'reduce'] as const).map((p) => `${p} ${job.phases[p].done}/${job.phases[p].total}`).join(', '));
  if (job.status === 'running' && job.inputBytes > 0) row('map input', `${formatBytes(job.mapBytes)} of ${formatBytes(job.inputBytes)} read`);
  for (const [title, counters] of [
    ['counters', job.counters],
    ['user counters', job.userCounters],
  ] as const) {
    const entries = Object.entries(counters).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) continue;
    lines.push(`${title}:`);
    const width = Math.max(...entries.map(([k]) => k.length));
    for (const [k, v] of entries) lines.push(`  ${k.padEnd(width)}  ${v}`);
  }
  for (const e of job.events ?? []) row('event', `${formatTime(e.at)} ${e.message}`);
  if (job.error) row('error', `${job.error.code}: ${job.error.message}`);
  // Older managers' jobs have neither field: they wrote text, uncompressed.
  if ((job.outputFormat ?? 'text') !== 'text' || (job.outputCompression ?? 'none') !== 'none') row('written as', `${job.outputFormat ?? 'text'}, ${job.outputCompression ?? 'none'}`);
  if (job.outputParts !== undefined) row('output', `${job.outputParts.join(', ') || 'no parts'} (torpedo output ${job.id})`);
  return `${lines.join('\n')}\n`;
}
