import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { isTorpedoError } from '../errors.ts';
import type { Launcher } from '../launcher/launcher.ts';
import type { JobSummary } from '../master/job-summary.ts';
import type { JobSnapshot, Master, Progress } from '../master/master.ts';
import type { JobSnapshotSchema, JobSummarySchema, MasterStatus, ProgressSchema } from '../protocol/master-status.ts';
import { parsePositiveInt } from './parse.ts';

interface MasterFlags {
  job: string;
  listen: string;
  advertise?: string;
  launcher: 'local' | 'external' | 'kubernetes';
  statusFile?: string;
  statusInterval: number;
  tokenFile?: string;
  json: boolean;
  verbose: boolean;
}

/**
 * `torpedo master --job DIR`: the master of one prepared job (its `job.json` and bundle on shared
 * storage), on this host, until the job ends. What a master pod runs; usable by hand with workers
 * started elsewhere (`--launcher external`). A master started again on the same job directory
 * resumes: committed tasks are adopted, the rest runs.
 */
export function registerMasterCommand(program: Command): void {
  program
    .command('master')
    .description('run the master of a prepared job (OUTPUT/_temporary with job.json) until the job ends; started again, it resumes')
    .requiredOption('--job <dir>', 'the job directory (OUTPUT/_temporary) or its job.json')
    .option('--listen <host:port>', 'address and port for the task protocol', '127.0.0.1:0')
    .option('--advertise <url>', 'the URL workers are given (default: the listening address)')
    .addOption(
      new Option('--launcher <kind>', 'who starts workers: local processes here, external (started by hand or by a cluster), or kubernetes (a workers Job; settings from TORPEDO_K8S_*)')
        .choices(['local', 'external', 'kubernetes'])
        .default('local'),
    )
    .option('--status-file <path>', 'write the job state as JSON here (every --status-interval), and the summary at the end')
    .option('--status-interval <ms>', 'how often the status file is rewritten', parsePositiveInt, 1000)
    .option('--token-file <path>', 'read the per-job secret from this file (default: $TORPEDO_TOKEN, else a new one in JOBDIR/token)')
    .option('--json', 'print one JSON summary on stdout at the end', false)
    .option('-v, --verbose', "copy local workers' logs to stderr", false)
    .action(async (flags: MasterFlags) => {
      process.exitCode = await runMasterCommand(flags);
    });
}

async function runMasterCommand(flags: MasterFlags): Promise<number> {
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} master: ${line}\n`);
  };
  const [{ readMasterSpec }, { layoutForOutput }, { localLauncher, runMaster }, { ExternalLauncher }, { formatSummary }] = await Promise.all([
    import('../master/master-spec.ts'),
    import('../master/job-layout.ts'),
    import('../job/run-local-job.ts'),
    import('../launcher/external-launcher.ts'),
    import('./summary-format.ts'),
  ]);
  let listen: { host: string; port: number };
  try {
    listen = parseListen(flags.listen);
  } catch (e) {
    process.stderr.write(`torpedo master: ${(e as Error).message}\n`);
    return 2;
  }
  let summary: JobSummary;
  try {
    const spec = readMasterSpec(flags.job);
    const layout = layoutForOutput(spec.output);
    const token = jobToken(flags, layout.workDir);
    const launcher: Launcher =
      flags.launcher === 'external'
        ? new ExternalLauncher({ log, tokenHint: token.hint })
        : flags.launcher === 'kubernetes'
          ? (await import('../kubernetes/kubernetes-launcher.ts')).createKubernetesLauncher({ spec, log })
          : localLauncher(spec, layout, { verbose: flags.verbose });
    log(`job ${spec.jobId} (${spec.jobName}): ${spec.splits.length} map tasks, ${spec.reducers} reduce tasks, ${spec.workers} workers (${flags.launcher})`);
    let stopStatus = (): void => {};
    let started: Master | undefined;
    summary = await runMaster(spec, {
      launcher,
      listenHost: listen.host,
      listenPort: listen.port,
      ...(flags.advertise !== undefined ? { advertiseUrl: flags.advertise } : {}),
      token: token.value,
      log,
      onStart: (master) => {
        started = master;
        if (flags.statusFile !== undefined) stopStatus = writeStatusEvery(master, flags.statusFile, flags.statusInterval);
      },
    });
    stopStatus();
    // The last word: the final task table and counters with the summary, nothing a second stale.
    if (flags.statusFile !== undefined) {
      writeStatus(flags.statusFile, {
        state: summary.status,
        updatedAt: Date.now(),
        ...(started !== undefined ? { progress: started.progress(), snapshot: started.snapshot() } : {}),
        summary,
      });
    }
  } catch (e) {
    if (!isTorpedoError(e)) throw e;
    process.stderr.write(`torpedo master: error ${e.code}: ${e.message}\n`);
    return 2;
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(formatSummary(summary));
  if (summary.status !== 'succeeded') {
    log(`job failed: ${summary.error?.code ?? ''} ${summary.error?.message ?? ''}`);
    return 1;
  }
  log(`job succeeded: output in ${summary.output}`);
  return 0;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (all addresses). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new Error(`--listen ${JSON.stringify(text)}: expected HOST:PORT, e.g. 0.0.0.0:7070`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] as string)), port };
}

/** The per-job secret: $TORPEDO_TOKEN, a --token-file, or a new one kept in JOBDIR/token (0600). */
function jobToken(flags: MasterFlags, workDir: string): { value: string; hint: string } {
  if (flags.tokenFile !== undefined) return { value: readFileSync(flags.tokenFile, 'utf8').trim(), hint: `TORPEDO_TOKEN from ${flags.tokenFile}` };
  const env = process.env['TORPEDO_TOKEN'];
  if (env !== undefined && env !== '') return { value: env, hint: 'the same TORPEDO_TOKEN as the master' };
  const path = join(workDir, 'token');
  if (!existsSync(path)) {
    writeFileSync(`${path}.tmp`, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  chmodSync(path, 0o600);
  return { value: readFileSync(path, 'utf8').trim(), hint: `TORPEDO_TOKEN="$(cat ${path})"` };
}

/**
 * What the master reports must be exactly what the status file's schema says, field for field
 * (readonly aside): otherwise a field the master adds is dropped by every reader's parse, or a
 * reader waits for one the master never writes. Until master/job-snapshot.ts and job-summary.ts
 * take their types from the schema, this is where the two are held together.
 */
type Plain<T> = T extends readonly (infer E)[] ? Plain<E>[] : T extends object ? { -readonly [K in keyof T]: Plain<T[K]> } : T;
type Same<A, B> = (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;
type Holds<T extends true> = T;
type _StatusFileMatchesMaster = [
  Holds<Same<Progress, z.infer<typeof ProgressSchema>>>,
  Holds<Same<JobSnapshot, z.infer<typeof JobSnapshotSchema>>>,
  Holds<Same<JobSummary, z.infer<typeof JobSummarySchema>>>,
];

function writeStatus(path: string, status: MasterStatus): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(status));
  renameSync(`${path}.tmp`, path);
}

/** Writes the master's state to `path` every `everyMs` until the returned function is called. */
function writeStatusEvery(master: Master, path: string, everyMs: number): () => void {
  const write = (): void => {
    try {
      writeStatus(path, { state: 'running', updatedAt: Date.now(), progress: master.progress(), snapshot: master.snapshot() });
    } catch {
      // shared storage hiccup: the next write may get through; readers see the last good one
    }
  };
  write();
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
