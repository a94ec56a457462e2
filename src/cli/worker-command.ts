import type { Command } from 'commander';
import { isTorpedoError } from '../errors.ts';
import { parsePositiveInt } from './parse.ts';

/** `torpedo worker`: one worker process of one job; started by a launcher, or by hand. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description("run one worker of a job: pull tasks from the job's master until the job ends")
    .requiredOption('--master <url>', "the master's URL, e.g. http://10.0.0.5:7070")
    .option('--token <token>', 'the per-job secret (default: $TORPEDO_TOKEN)')
    .option('--id <id>', 'worker id shown in logs and task tables (default: $TORPEDO_WORKER_ID, else w-PID)')
    .option('--give-up-after <ms>', "stop when the master has not answered for this long (default: twice the job's lease timeout)", parsePositiveInt)
    .action(async (opts: { master: string; token?: string; id?: string; giveUpAfter?: number }) => {
      const id = opts.id ?? (process.env['TORPEDO_WORKER_ID'] || `w-${process.pid}`);
      const token = opts.token ?? process.env['TORPEDO_TOKEN'];
      if (token === undefined || token === '') {
        process.stderr.write('torpedo worker: no token: pass --token or set TORPEDO_TOKEN\n');
        process.exit(2);
      }
      const log = (line: string): void => {
        process.stderr.write(`${new Date().toISOString()} worker ${id}: ${line}\n`);
      };
      try {
        const { runWorker } = await import('../worker/worker.ts');
        await runWorker({ masterUrl: opts.master, token, workerId: id, log, ...(opts.giveUpAfter !== undefined ? { giveUpMs: opts.giveUpAfter } : {}) });
        log('the master says the job is over: exiting');
        process.exit(0);
      } catch (e) {
        if (isTorpedoError(e) && e.code === 'TORPEDO_ERR_MASTER_UNREACHABLE') {
          log(`stopping: ${e.message}`);
          process.exit((await import('../worker/worker.ts')).EXIT_MASTER_LOST);
        }
        log(`stopping: ${(e as Error).stack ?? String(e)}`);
        process.exit(1);
      }
    });
}

