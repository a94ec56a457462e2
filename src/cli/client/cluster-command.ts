import type { Command } from 'commander';
import type { ClusterView } from './api-types.ts';
import { clientAction, printJson, serverOptions, type JsonFlags } from './client-action.ts';
import { formatBytes, table } from './format.ts';
import { openClient } from './session.ts';

/** `torpedo cluster` (admins): the running jobs' workers, what each runs, its CPU time and RSS. */
export function registerClusterCommand(program: Command): void {
  serverOptions(program.command('cluster').description('admins: the workers of running jobs, what each runs, with CPU time and memory (RSS)'), { json: true }).action(
    clientAction(async (flags: JsonFlags) => {
      const view = await openClient(flags.server).json<ClusterView>('GET', '/cluster');
      if (flags.json) return printJson(view);
      process.stdout.write(`${view.runningJobs} running (at most ${view.maxRunningJobs}, ${view.maxRunningJobsPerUser} per user), ${view.queuedJobs} queued\n`);
      const rows = view.workers.flatMap((w) => {
        const job = `${w.job}${w.jobName !== null ? ` (${w.jobName})` : ''}`;
        if (w.running.length === 0) return [[w.worker, job, w.owner, 'idle', '-', '-']];
        return w.running.map((a) => [w.worker, job, w.owner, a.id, a.cpuMs !== undefined ? `${(a.cpuMs / 1000).toFixed(1)} s` : '-', a.rssBytes !== undefined ? formatBytes(a.rssBytes) : '-']);
      });
      if (rows.length > 0) process.stdout.write(table(['WORKER', 'JOB', 'OWNER', 'ATTEMPT', 'CPU', 'RSS'], rows));
    }),
  );
}
