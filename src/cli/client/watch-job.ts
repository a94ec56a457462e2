import type { ApiClient } from './api-client.ts';
import type { Job } from './api-types.ts';
import { followJob } from './follow-job.ts';
import { JobProgressBar } from './job-progress.ts';

/**
 * Follows a job with a progress bar on stderr until it ends (`submit --wait`, `status --watch`).
 * Ctrl-C stops following only: the job is the manager's and keeps running, so say how to resume.
 */
export async function watchJob(client: ApiClient, id: string): Promise<Job> {
  const bar = new JobProgressBar(process.stderr, id);
  const onInterrupt = (): void => {
    bar.stop();
    process.stderr.write(`\ntorpedo: stopped following; job ${id} keeps running (torpedo status ${id} --watch, torpedo cancel ${id})\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await followJob(
      client,
      id,
      (p) => bar.update(p),
      (reason, delayMs) => void process.stderr.write(`\ntorpedo: ${reason}; reconnecting in ${(delayMs / 1000).toFixed(1)} s\n`),
    );
  } finally {
    process.off('SIGINT', onInterrupt);
    bar.stop();
  }
}

/** One line on stderr about how the job ended; the exit status: 0 if it succeeded, else 1. */
export function reportEnd(job: Job): number {
  if (job.status === 'succeeded') {
    const parts = job.outputParts?.length ?? 0;
    process.stderr.write(`torpedo: job ${job.id} succeeded: ${parts} part${parts === 1 ? '' : 's'} (torpedo output ${job.id})\n`);
    return 0;
  }
  const error = job.error ?? { code: `job ${job.status}`, message: 'no error was reported' };
  process.stderr.write(`torpedo: job ${job.id} ${job.status}\ntorpedo: ${error.code}: ${error.message}\n`);
  return 1;
}
