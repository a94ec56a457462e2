import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';

/**
 * Hidden commands that the CLI and the manager run in child processes, each printing one JSON
 * line `{ok: true, …}` or `{ok: false, code, message}`:
 *  - `probe-job BUNDLE`: imports a compiled job and reports its shape. Run sandboxed, so that a
 *    job's top-level code never runs in the CLI's or the manager's process.
 *  - `compile-job SOURCE --out BUNDLE`: bundles (and type-checks) a job; a second or so of CPU
 *    that must not block the manager's event loop, where masters and live progress run.
 */
export function registerInternalCommands(program: Command): void {
  program
    .command('probe-job <bundle>', { hidden: true })
    .option('--name <name>', 'how errors name the job')
    .action(async (bundle: string, opts: { name?: string }) => {
      const { loadJob } = await import('../worker/load-job.ts');
      await answer(async () => {
        const job = await loadJob(bundle, opts.name ?? bundle);
        return { hasSetup: job.setup !== undefined };
      });
    });
  program
    .command('compile-job <source>', { hidden: true })
    .requiredOption('--out <bundle>', 'where to write the bundle')
    .option('--typecheck', 'type-check TypeScript first')
    .option('--name <name>', 'how errors name the job')
    .option('--relative-to <dir>', 'error locations are relative to this directory')
    .action(async (source: string, opts: { out: string; typecheck?: boolean; name?: string; relativeTo?: string }) => {
      const { compileJob } = await import('../job/compile-job.ts');
      await answer(async () => {
        const compiled = await compileJob(source, { typecheck: opts.typecheck === true, name: opts.name ?? source, ...(opts.relativeTo !== undefined ? { relativeTo: opts.relativeTo } : {}) });
        writeFileSync(opts.out, compiled.code);
        return {};
      });
    });
}

async function answer(work: () => Promise<Record<string, unknown>>): Promise<never> {
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, ...(await work()) })}\n`);
  } catch (e) {
    const err = e as { code?: string; message: string };
    process.stdout.write(`${JSON.stringify({ ok: false, code: err.code ?? 'TORPEDO_ERR_USER_CODE', message: err.message })}\n`);
  }
  process.exit(0);
}
