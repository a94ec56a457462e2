import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';

/**
 * Hidden commands that the CLI and the manager run in child processes, each printing one JSON
 * line `{ok: true, …}` or `{ok: false, code, message}`:
 *  - `probe-job BUNDLE`: imports a compiled job and reports its shape (has it `setup`, its declared `params`). Run sandboxed, so that a
 *    job's top-level code never runs in the CLI's or the manager's process.
 *  - `compile-job SOURCE --out BUNDLE`: bundles (and type-checks) a job; a second or so of CPU
 *    that must not block the manager's event loop, where masters and live progress run.
 *  - `check-job [SOURCE] --out BUNDLE --answer FILE`: both of the above, each in a child process
 *    (compiles SOURCE into BUNDLE, if given, then loads BUNDLE), also writing its answer to FILE.
 *    What a compile pod runs on Kubernetes (src/kubernetes/pod-code-checker.ts), where the
 *    manager cannot confine user code and the pod is the sandbox; the manager reads FILE.
 */
export function registerInternalCommands(program: Command): void {
  program
    .command('probe-job <bundle>', { hidden: true })
    .option('--name <name>', 'how errors name the job')
    .action(async (bundle: string, opts: { name?: string }) => {
      const { loadJob } = await import('../worker/load-job.ts');
      await answer(async () => {
        const job = await loadJob(bundle, opts.name ?? bundle);
        return { hasSetup: job.setup !== undefined, hasReduce: job.reduce !== undefined, ...(job.params !== undefined ? { params: job.params } : {}) };
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
  program
    .command('check-job [source]', { hidden: true })
    .requiredOption('--out <bundle>', 'the bundle: written from SOURCE if given, then loaded')
    .requiredOption('--answer <file>', 'where to write the answer too')
    .option('--typecheck', 'type-check TypeScript first')
    .option('--name <name>', 'how errors name the job')
    .option('--relative-to <dir>', 'error locations are relative to this directory')
    .option('--timeout <ms>', "the compile's time limit")
    .action(async (source: string | undefined, opts: { out: string; answer: string; typecheck?: boolean; name?: string; relativeTo?: string; timeout?: string }) => {
      const { compileJobInChild, probeJob } = await import('../job/probe-job.ts');
      await answer(async () => {
        // The caller's identity: in a pod there is no uid to switch to, and the pod confines both.
        const who = { identity: 'caller' as const };
        if (source !== undefined) {
          const name = opts.name ?? source;
          const timeoutMs = opts.timeout !== undefined ? Number(opts.timeout) : undefined;
          await compileJobInChild(source, opts.out, { typecheck: opts.typecheck === true, name, relativeTo: opts.relativeTo ?? process.cwd(), sandbox: who, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
        }
        return { ...(await probeJob(opts.out, 'job', process.env['TORPEDO_NO_BUNDLE'] !== '1', who)) };
      }, opts.answer);
    });
}

async function answer(work: () => Promise<Record<string, unknown>>, file?: string): Promise<never> {
  let line: string;
  try {
    line = JSON.stringify({ ok: true, ...(await work()) });
  } catch (e) {
    const err = e as { code?: string; message: string };
    line = JSON.stringify({ ok: false, code: err.code ?? 'TORPEDO_ERR_USER_CODE', message: err.message });
  }
  if (file !== undefined) writeFileSync(file, `${line}\n`);
  process.stdout.write(`${line}\n`);
  process.exit(0);
}
