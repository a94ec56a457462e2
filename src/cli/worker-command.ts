import type { Command } from 'commander';

/** `torpedo worker`: one worker process of one job; started by a launcher, or by hand. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description("run one worker of a job: pull tasks from the job's master until the job ends")
    .requiredOption('--master <url>', "the master's URL, e.g. http://10.0.0.5:7070")
    .option('--token <token>', 'the per-job secret (default: $TORPEDO_TOKEN)')
    .option('--id <id>', 'worker id shown in logs and task tables', `w-${process.pid}`)
    .action(async (opts: { master: string; token?: string; id: string }) => {
      const token = opts.token ?? process.env['TORPEDO_TOKEN'];
      if (token === undefined || token === '') {
        process.stderr.write('torpedo worker: no token: pass --token or set TORPEDO_TOKEN\n');
        process.exit(2);
      }
      const log = (line: string): void => {
        process.stderr.write(`${new Date().toISOString()} worker ${opts.id}: ${line}\n`);
      };
      try {
        const { runWorker } = await import('../worker/worker.ts');
        await runWorker({ masterUrl: opts.master, token, workerId: opts.id, log });
        process.exit(0);
      } catch (e) {
        log(`stopping: ${(e as Error).stack ?? String(e)}`);
        process.exit(1);
      }
    });
}

