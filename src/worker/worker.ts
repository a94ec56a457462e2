import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../api/job.ts';
import { TorpedoError } from '../errors.ts';
import { MasterClient } from '../protocol/client.ts';
import type { JobInfo, Task } from '../protocol/messages.ts';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { namedOutputName, taskName } from '../protocol/task-names.ts';
import { jobLayout, mapOutputPath, reducePartPath, type JobLayout } from '../master/job-layout.ts';
import { fullStack, toReport } from './error-report.ts';
import { AttemptLog } from './attempt-log.ts';
import { loadJob } from './load-job.ts';
import { runMap } from './map-runner.ts';
import { runReduce } from './reduce-runner.ts';
import { loadPartCompressor } from '../shuffle/part-compressor.ts';
import { NamedOutputs } from '../shuffle/named-outputs.ts';
import type { PartEncoding } from '../shuffle/output-writer.ts';
import { runSetup } from './setup-runner.ts';
import { AttemptContext } from './task-context.ts';
import { runStreamingMap } from '../streaming/streaming-map.ts';
import { runStreamingReduce } from '../streaming/streaming-reduce.ts';

/** Stands in for the job module of a streaming job, whose tasks never call it. */
const STREAMING_PLACEHOLDER: Job = {
  map: () => {
    throw new Error('a streaming job has no map function');
  },
  reduce: () => {
    throw new Error('a streaming job has no reduce function');
  },
};

export interface WorkerOptions {
  readonly masterUrl: string;
  readonly token: string;
  readonly workerId: string;
  readonly log: (line: string) => void;
  /** How long the master may be unreachable before the worker stops (default: what the master says). */
  readonly giveUpMs?: number;
  /**
   * Called when the master has not answered for `giveUpMs` while a task runs: the worker must
   * stop now, without waiting for its task (default: exit the process with code 3).
   */
  readonly onMasterLost?: () => void;
}

/** Exit code of a worker that stopped because its master could not be reached. */
export const EXIT_MASTER_LOST = 3;

/** Thrown inside an attempt that the master took back: it stops at its next progress report. */
class AttemptAborted extends Error {}

/**
 * A worker process: registers with the master, then pulls one task at a time, runs it, commits
 * its output with an atomic link (the first attempt to commit wins) and reports. Returns when the
 * master says the job is over.
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const client = new MasterClient(opts.masterUrl, opts.token, opts.giveUpMs ?? 30_000);
  const info = await client.register(opts.workerId);
  client.giveUpMs = opts.giveUpMs ?? info.masterTimeoutMs;
  const state: WorkerState = { info, job: undefined, setup: undefined, setupLoaded: false };
  opts.log(`registered for job ${info.jobId}`);
  for (;;) {
    const next = await client.next(opts.workerId);
    if (next.type === 'exit') return;
    if (next.type === 'wait') continue;
    await runTask(client, opts, state, next.task);
  }
}

interface WorkerState {
  readonly info: JobInfo;
  job: Job | undefined;
  setup: unknown;
  setupLoaded: boolean;
}

async function runTask(client: MasterClient, opts: WorkerOptions, state: WorkerState, task: Task): Promise<void> {
  const { info } = state;
  const layout = jobLayout(info.workDir);
  const attemptDir = join(layout.attempts, task.attemptId);
  rmSync(attemptDir, { recursive: true, force: true });
  const log = openAttemptLog(layout, task.attemptId, info.logCapBytes, opts);
  opts.log(`${task.attemptId} started${task.skip !== undefined && task.skip.length > 0 ? `, skipping ${task.skip.length} bad records` : ''}`);
  let result: 'succeeded' | 'failed' | 'dropped' = 'failed';
  let bytes = 0;
  let outputPath: string | undefined;
  let aborted: string | undefined;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const giveUpMs = client.giveUpMs;
  const beat = setInterval(() => {
    // Cut off from the master for longer than any lease: the task is someone else's by now.
    if (performance.now() - client.lastContact > giveUpMs) {
      opts.log(`no answer from the master for ${giveUpMs} ms during ${task.attemptId}: stopping`);
      clearInterval(beat);
      (opts.onMasterLost ?? (() => process.exit(EXIT_MASTER_LOST)))();
      return;
    }
    const cpu = process.cpuUsage(cpuAtStart);
    const usage = { cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssBytes: process.memoryUsage.rss() };
    client.heartbeat(opts.workerId, task.attemptId, bytes, usage).then(
      (r) => {
        if (r.abort && aborted === undefined) aborted = 'the master took the task back (lease expired, or another attempt won)';
      },
      () => {
        // a missed heartbeat is the master's to judge (lease expiry); the next one may get through
      },
    );
  }, info.heartbeatMs);
  beat.unref();
  const onProgress = (b: number): void => {
    bytes = b;
    if (aborted !== undefined) throw new AttemptAborted(aborted);
  };
  try {
    mkdirSync(attemptDir, { recursive: true });
    // Loaded at the first task, not at start: a worker that starts late may find the job over.
    // Inside the attempt, so that a module without `map` fails it (and is not retried) rather
    // than the worker. A streaming job has no module: its commands are in `info.streaming`.
    const job = (state.job ??= info.streaming !== undefined ? STREAMING_PLACEHOLDER : await loadJob(info.bundle, info.jobName));
    if (task.kind !== 'setup' && !state.setupLoaded) {
      state.setup = existsSync(layout.setup) ? (JSON.parse(readFileSync(layout.setup, 'utf8')) as unknown) : undefined;
      state.setupLoaded = true;
    }
    const ctx = new AttemptContext({ taskId: taskName(task), attempt: task.attempt, params: info.params, reducers: info.reducers, setup: state.setup, files: info.files ?? {} });
    let counters: Record<string, number> = {};
    let committed = true;
    let setupResult: unknown;
    let part: PartChecksum | undefined;
    // The named outputs (emit.to) of a reduce, or of the map of a map-only job.
    const compressor = task.kind === 'reduce' || info.reducers === 0 ? await loadPartCompressor(info.outputCompression) : undefined;
    const encoding = (): PartEncoding => ({ format: info.outputFormat, ...(compressor !== undefined ? { compressor: compressor() } : {}) });
    // Beside where they are published (map/ or reduce/), as the part is: a link cannot cross mounts.
    const named = new NamedOutputs(namedDirOf(layout, task), () => {
      // Its WebAssembly library has one zstd stream per process: a part and a named output cannot be open at once.
      if (info.outputCompression === 'zstd') throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'named outputs (emit.to) cannot be zstd-compressed yet: use --output-compression gzip or bzip2');
      return encoding();
    });
    let namedFiles: ReturnType<NamedOutputs['close']> = [];
    if (task.kind === 'setup') {
      setupResult = await runSetup({ job, jobName: info.jobName, params: info.params, reducers: info.reducers, files: task.splits ?? [] });
    } else if (task.kind === 'map') {
      if (task.split === undefined) throw new TorpedoError('TORPEDO_ERR_PROTOCOL', `map task ${task.attemptId} has no split`);
      outputPath = unpublishedPath(layout.map, task.attemptId);
      // A map-only job's map tasks write its parts.
      const common = {
        ...(info.reducers === 0 ? { encoding: encoding(), named } : {}),
        split: task.split,
        ctx,
        reducers: info.reducers,
        memoryBytes: info.memoryBytes,
        maxRecordBytes: info.maxRecordBytes,
        attemptDir,
        outputPath,
        onProgress,
      };
      ({ counters, part } =
        info.streaming !== undefined
          ? await runStreamingMap({ ...common, spec: info.streaming, task: { jobId: info.jobId, taskId: ctx.taskId, attemptId: task.attemptId, index: task.index } })
          : await runMap({ ...common, job, jobName: info.jobName, skip: new Set(task.skip ?? []), skipBadRecords: info.skipBadRecords, csvHeader: info.csvHeader }));
      namedFiles = named.close();
      committed = await fencedCommit(client, opts.workerId, task.attemptId, outputPath, mapOutputPath(layout, task.index), namedTargets(namedFiles, layout.map, 'm', task.index));
    } else {
      outputPath = unpublishedPath(layout.reduce, task.attemptId);
      const mapOutputs = Array.from({ length: info.maps }, (_, m) => mapOutputPath(layout, m));
      if (info.streaming !== undefined) {
        ({ counters, part } = await runStreamingReduce({
          spec: info.streaming,
          task: { jobId: info.jobId, taskId: ctx.taskId, attemptId: task.attemptId },
          attemptDir,
          partition: task.index,
          mapOutputs,
          ctx,
          memoryBytes: info.memoryBytes,
          mergeFactor: info.mergeFactor,
          maxRecordBytes: info.maxRecordBytes,
          outputPath,
          encoding: encoding(),
          onProgress,
        }));
      } else ({ counters, part } = await runReduce({
        job,
        jobName: info.jobName,
        partition: task.index,
        mapOutputs,
        ctx,
        memoryBytes: info.memoryBytes,
        mergeFactor: info.mergeFactor,
        scratchDir: attemptDir,
        outputPath,
        encoding: encoding(),
        named,
        onProgress,
      }));
      namedFiles = named.close();
      committed = await fencedCommit(client, opts.workerId, task.attemptId, outputPath, reducePartPath(layout, task.index), namedTargets(namedFiles, layout.reduce, 'r', task.index));
    }
    clearInterval(beat);
    opts.log(`${task.attemptId} done in ${(performance.now() - started).toFixed(0)} ms`);
    result = committed ? 'succeeded' : 'dropped';
    await client.done({
      workerId: opts.workerId,
      attemptId: task.attemptId,
      counters,
      userCounters: ctx.counters,
      committed,
      maxRssBytes: maxRss(),
      ...(task.kind === 'setup' ? { setup: setupResult } : {}),
      // The part on disk is this attempt's only if it committed it.
      ...(part !== undefined && committed ? { part } : {}),
      ...(namedFiles.length > 0 && committed ? { named: Object.fromEntries(namedFiles.map((f) => [f.name, f.checksum])) } : {}),
    });
  } catch (e) {
    clearInterval(beat);
    if (e instanceof AttemptAborted || e instanceof CommitRefused) {
      // Not a failure of the task: the master has given it to another attempt and expects nothing.
      opts.log(`${task.attemptId} dropped: ${e.message}`);
      result = 'dropped';
      return;
    }
    const error = { ...toReport(e), ...unreadableMapOutput(e, layout, task, info.maps) };
    opts.log(`${task.attemptId} failed: ${error.message}`);
    const stack = fullStack(e);
    if (stack !== undefined) opts.log(stack);
    await client.failed({ workerId: opts.workerId, attemptId: task.attemptId, error, maxRssBytes: maxRss() });
  } finally {
    log?.close({ attemptId: task.attemptId, result });
    rmSync(attemptDir, { recursive: true, force: true });
    if (outputPath !== undefined) rmSync(outputPath, { force: true });
    rmSync(namedDirOf(layout, task), { recursive: true, force: true });
  }
}

/** Where an attempt writes its named outputs before publishing them (its part's directory). */
function namedDirOf(layout: JobLayout, task: Task): string {
  return join(task.kind === 'reduce' ? layout.reduce : layout.map, `.${task.attemptId}.named`);
}

/**
 * The attempt's log, kept after the job (protocol/attempt-logs.ts). A log that cannot be opened
 * (a full or read-only storage) costs the attempt its log, not its run: the worker says so in its
 * own log.
 */
function openAttemptLog(layout: JobLayout, attemptId: string, capBytes: number, opts: WorkerOptions): AttemptLog | undefined {
  try {
    return AttemptLog.open(layout.output, attemptId, capBytes);
  } catch (e) {
    opts.log(`${attemptId}: its log cannot be kept: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * Where an attempt writes its output before publishing it: beside the name it is published
 * under (map/ or reduce/), so that the publishing link stays within one directory — a sandboxed
 * worker's writable directories are separate mounts, and a link cannot cross them.
 */
function unpublishedPath(dir: string, attemptId: string): string {
  return join(dir, `.${attemptId}.tmp`);
}

class CommitRefused extends Error {}

/**
 * Fencing, then publishing: the master must still count this attempt as current (its lease held,
 * no other attempt committed); a refused attempt drops its output and reports nothing more. A
 * grant followed by a partition longer than the lease cannot publish twice either: the publish is
 * one `link`, which fails if another attempt's output is already there.
 */
async function fencedCommit(client: MasterClient, workerId: string, attemptId: string, from: string, to: string, named: readonly { from: string; to: string }[] = []): Promise<boolean> {
  const answer = await client.commit(workerId, attemptId);
  if (!answer.commit) throw new CommitRefused(`commit refused: ${answer.reason ?? 'the attempt is no longer current'}`);
  // Named outputs first, each linked as the part is; the part's link decides which attempt's
  // output the task is. One found linked already is an earlier attempt's (which died before its
  // part, or lost): a task's output is a function of its input, so it is the same file.
  for (const n of named) commit(n.from, n.to);
  return commit(from, to);
}

/** Where each named output of task `index` is committed: NAME-r-NNNNN (or NAME-m-) in `dir`. */
function namedTargets(files: readonly { name: string; path: string }[], dir: string, kind: 'r' | 'm', index: number): { from: string; to: string }[] {
  return files.map((f) => ({ from: f.path, to: join(dir, namedOutputName(f.name, kind, index)) }));
}

/**
 * Publishes an attempt's output with one atomic link: the first attempt to commit wins; a later
 * one finds the name taken and drops its copy. Returns whether this attempt won.
 */
function commit(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(from);
  }
}

/** For a reduce that found a map output damaged or missing: which map task's it is. */
function unreadableMapOutput(e: unknown, layout: JobLayout, task: Task, maps: number): { mapOutput?: number } {
  if (task.kind !== 'reduce' || !(e instanceof TorpedoError) || e.code !== 'TORPEDO_ERR_CORRUPT_DATA') return {};
  for (let m = 0; m < maps; m++) if (e.details.file === mapOutputPath(layout, m)) return { mapOutput: m };
  return {};
}

function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
