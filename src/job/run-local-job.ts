import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EXAMPLES } from '../../examples/index.ts';
import { EXAMPLE_REDUCERS, type ExampleName } from '../../examples/names.ts';
import { TorpedoError } from '../errors.ts';
import { nameInputs } from '../input/input-files.ts';
import { listAnyInputs } from '../input/remote-inputs.ts';
import { claimRemoteOutput, publishOutput, stagedComplete, stagingDir } from './remote-output.ts';
import { isRemoteUri } from '../storage/storage-uri.ts';
import { planSplits, splitSizeForMaps } from '../input/splits.ts';
import { checkParams, CLI_SPELLING } from '../protocol/job-params.ts';
import { DEFAULT_SPLIT_SIZE, pickSettings, resolveSettings, type JobSettings } from '../protocol/job-settings.ts';
import type { Launcher } from '../launcher/launcher.ts';
import { LocalLauncher } from '../launcher/local-launcher.ts';
import { checkReadable, defaultConfinement, grantReadable, workerLaunch, type WorkerConfinement } from '../launcher/worker-sandbox.ts';
import { writeFileAtomically } from '../master/atomic-write.ts';
import { layoutForOutput, markMasterRunning, type JobLayout } from '../master/job-layout.ts';
import { parseMasterSpec, readSpecJson, writeMasterSpec, type MasterSpec } from '../master/master-spec.ts';
import type { JobSummary } from '../master/job-summary.ts';
import { Master } from '../master/master.ts';
import { compileJob } from './compile-job.ts';
import { ensureBundle, probeJob, type ProbedJob } from './probe-job.ts';
import type { PodRequest } from '../protocol/pod-settings.ts';

/** A streaming job (`--mapper`, `--reducer`, `--combiner`, `--file`): commands instead of a module. */
export interface StreamingCommands {
  readonly mapper: string;
  readonly reducer: string;
  readonly combiner?: string;
  /** Files copied into each task's working directory. */
  readonly files: readonly string[];
}

/**
 * A job to prepare and run. Its settings (reducers, workers, memory, attempts, leases …) are
 * those of src/protocol/job-settings.ts: any left out take the table's defaults.
 */
export interface RunJobOptions extends Partial<JobSettings> {
  /** A built-in example's name, or the path of a job module (.ts, .mts, .js, .mjs); ignored for streaming. */
  readonly job: string;
  readonly streaming?: StreamingCommands;
  /**
   * Side files of a JavaScript or TypeScript job (`--file`): copied into the job's directory; a
   * task reads one through `ctx.files[name]` (its base name), inside the sandbox.
   */
  readonly files?: readonly string[];
  /** `job` is a bundle already made by compileJob (the manager compiles at submit): use it as is. */
  readonly precompiled?: boolean;
  /**
   * What loading the bundle showed when it was checked (the manager loads it at submit): it is
   * not loaded again here. On Kubernetes that load ran in a pod, and no user code runs in the
   * manager's. Its `params`, if given, are checked against the job's parameters here (the
   * manager checks them at submit, and passes only `hasSetup`).
   */
  readonly probed?: ProbedJob;
  readonly inputs: readonly string[];
  /** On Kubernetes: what the owner asked of the job's pods; kept in job.json for its master. */
  readonly pods?: PodRequest;
  /**
   * The names jobs see as `ctx.file` for inputs (path as given in `inputs` → name), instead of
   * their paths: the manager's dataset names (input-files.ts, `nameInputs`).
   */
  readonly inputNames?: Readonly<Record<string, string>>;
  readonly output: string;
  readonly force: boolean;
  /** Continue the job whose state is in OUTPUT/_temporary (after a crash): committed tasks are reused. */
  readonly resume?: boolean;
  readonly typecheck: boolean;
  /** Copy worker logs to stderr. */
  readonly verbose?: boolean;
  /** Confine workers with Node's permission model (default true). */
  readonly sandbox?: boolean;
  /**
   * Confine a streaming job's commands (unprivileged user, no network; needs root or user
   * namespaces). Default: as `sandbox`. Off in pods, where the pod is the sandbox.
   */
  readonly confineStreaming?: boolean;
  /** Extra Node flags for worker processes. */
  readonly workerNodeArgs?: readonly string[];
  /** How workers are confined: the manager gives each job a uid of its own; default the caller's. */
  readonly confinement?: WorkerConfinement;
  /**
   * False when workers will not run on this machine from this spec (`--prepare-only`): their
   * launcher checks what they can read. Default true: inputs the local workers' uid cannot read
   * are refused before the output is touched.
   */
  readonly workersHere?: boolean;
  /** Called once the master exists, e.g. to show progress. */
  readonly onStart?: (master: Master) => void;
  /**
   * The id of a new job (the manager's, which names its objects on a cluster); default a fresh
   * one. A resumed job keeps the id in its job.json.
   */
  readonly jobId?: string;
}

/** The settings a `--resume` must repeat: they decide the tasks and what they compute. */
const RESUME_SETTINGS = ['reducers', 'splitSize', 'maps', 'params'] as const;

/** A job directory written by `prepareJob`, ready for a master. */
export interface PreparedJob {
  readonly spec: MasterSpec;
  readonly layout: JobLayout;
}

/**
 * `torpedo run`: prepares the job (see `prepareJob`), then runs its master in this process with
 * local worker processes.
 */
export async function runLocalJob(o: RunJobOptions): Promise<JobSummary> {
  if (isRemoteUri(o.output)) return await runToObjectStore(o);
  const prepared = await prepareJob(o);
  if ('complete' in prepared) return prepared.complete;
  return runMaster(prepared.spec, { launcher: localLauncher(prepared.spec, prepared.layout, o), ...(o.onStart !== undefined ? { onStart: o.onStart } : {}) });
}

/**
 * A job whose output is in an object store: run in a staging directory on this machine, then
 * published to the output prefix, `_SUCCESS` last (remote-output.ts). `--resume` goes on with
 * an interrupted job's staging directory, or publishes a finished one a crash left unpublished.
 */
async function runToObjectStore(o: RunJobOptions): Promise<JobSummary> {
  const staging = stagingDir(o.output);
  if (o.resume === true && stagedComplete(staging)) {
    await publishOutput(staging, o.output);
    rmSync(staging, { recursive: true, force: true });
    return alreadyComplete(o.output, o.job);
  }
  const resuming = o.resume === true && existsSync(layoutForOutput(staging).spec);
  if (!resuming) {
    await claimRemoteOutput(o.output, o.inputs, o.force);
    rmSync(staging, { recursive: true, force: true });
  }
  const prepared = await prepareJob({ ...o, output: staging });
  const summary = 'complete' in prepared ? prepared.complete : await runMaster(prepared.spec, { launcher: localLauncher(prepared.spec, prepared.layout, o), ...(o.onStart !== undefined ? { onStart: o.onStart } : {}) });
  if (summary.status !== 'succeeded') return { ...summary, output: o.output };
  await publishOutput(staging, o.output);
  rmSync(staging, { recursive: true, force: true });
  return { ...summary, output: o.output };
}

/**
 * Checks everything that can be checked before touching the output (the job compiles and has
 * map/reduce, its parameters are those it declares, inputs are readable, the output is free), then writes the job directory
 * `OUTPUT/_temporary/` — `job.json` (the master's spec), `job.mjs` (the bundle), a streaming
 * job's files — without running anything. A master started on any host that sees the same
 * storage (`torpedo master --job OUTPUT/_temporary`) runs it from there. With `resume`, an
 * interrupted job's directory is kept, and its spec must match.
 */
export async function prepareJob(o: RunJobOptions): Promise<PreparedJob | { complete: JobSummary }> {
  if (isRemoteUri(o.output)) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `output ${JSON.stringify(o.output)}: a job directory for another host (--prepare-only, torpedo master) must be on a shared filesystem; an output in S3 is for \`torpedo run\``);
  }
  const builtin = EXAMPLES[o.job];
  const jobPath = builtin ?? o.job;
  if (o.files !== undefined) checkStreamingFiles(o.files);
  if (o.streaming !== undefined) checkStreamingFiles(o.streaming.files);
  else if (builtin === undefined && !existsSync(o.job)) {
    throw new TorpedoError(
      'TORPEDO_ERR_JOB_NOT_FOUND',
      `${JSON.stringify(o.job)} is neither a job file nor a built-in example (${Object.keys(EXAMPLES).join(', ')})`,
    );
  }
  // A built-in job's own default for R (grep: map-only), unless R is given.
  const exampleReducers = builtin !== undefined && o.streaming === undefined && o.reducers === undefined ? EXAMPLE_REDUCERS[o.job as ExampleName] : undefined;
  const settings = resolveSettings({ ...o, ...(exampleReducers !== undefined ? { reducers: exampleReducers } : {}) }, { cores: availableParallelism() });
  const listing = await listAnyInputs(o.inputs);
  const { linkedOutside } = listing;
  const files = o.inputNames !== undefined ? nameInputs(listing.files, o.inputNames) : listing.files;
  const output = resolve(o.output);
  const layout = layoutForOutput(output);
  // What `--resume` must repeat: the same job, inputs, R, splits and params.
  const identity = {
    job: o.job,
    ...(o.streaming !== undefined ? { commands: { ...o.streaming, files: [...o.streaming.files] } } : {}),
    ...(o.files !== undefined && o.files.length > 0 ? { files: [...o.files] } : {}),
    inputs: [...o.inputs],
    ...pickSettings(settings, RESUME_SETTINGS),
  };
  const resuming = o.resume === true && existsSync(layout.spec);
  if (o.resume === true && !resuming && existsSync(join(output, '_SUCCESS'))) {
    return { complete: alreadyComplete(output, o.job) };
  }
  // An interrupted job's spec, read once: checked against this command, then its id and splits kept.
  const savedJson = resuming ? readSpecJson(layout.spec) : undefined;
  if (savedJson !== undefined) checkResumable(savedJson, identity);
  const saved = savedJson !== undefined ? parseMasterSpec(savedJson, layout.spec) : undefined;
  checkOutput(output, o.inputs, o.force || resuming);

  // The sandbox needs the bundled build: tsx's loader starts a child process, which it refuses.
  const sandbox = o.sandbox !== false && process.env['TORPEDO_NO_BUNDLE'] !== '1';
  const compiled =
    o.streaming !== undefined
      ? { code: STREAMING_MODULE, name: `streaming job (mapper \`${o.streaming.mapper}\`)` }
      : o.precompiled === true
        ? { code: readFileSync(jobPath, 'utf8'), name: o.job }
        : await compileJob(jobPath, { typecheck: o.typecheck && builtin === undefined, name: o.job });
  // Load it once, in a sandboxed process, so that a module without map/reduce fails before any
  // output is touched.
  const confinement = o.confinement ?? (sandbox ? defaultConfinement() : { identity: 'caller' as const });
  // Before the output is touched: inputs the job's uid cannot read fail here, with what to do.
  if (confinement.identity !== 'caller' && o.workersHere !== false) checkReadable(o.inputs, confinement.identity);
  let probed: ProbedJob = o.probed ?? { hasSetup: false };
  if (o.streaming === undefined && o.probed === undefined) {
    const who = { identity: confinement.identity, ...(confinement.hidden !== undefined ? { hidden: confinement.hidden } : {}) };
    const scratch = mkdtempSync(join(tmpdir(), 'torpedo-job-'));
    try {
      const probe = join(scratch, 'job.mjs');
      writeFileSync(probe, compiled.code);
      grantReadable(scratch, [probe], who.identity);
      probed = await probeJob(probe, compiled.name, sandbox, who);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  // Parameters that cannot succeed (a required one missing, one the job does not take): refused
  // here, before the output is touched, rather than by the job's setup on every attempt.
  checkParams(probed.params, settings.params, compiled.name, CLI_SPELLING);
  if (probed.hasReduce === false && settings.reducers > 0) {
    throw new TorpedoError('TORPEDO_ERR_JOB_SHAPE', `${compiled.name}: the default export has no \`reduce\` function: give it one, or run it map-only with --reducers 0`);
  }
  const { hasSetup } = probed;

  // A resumed run keeps its splits: they name the committed map outputs it adopts.
  const splits = saved?.splits ?? planSplits(files, settings.maps !== null ? splitSizeForMaps(files, settings.maps, settings) : (settings.splitSize ?? DEFAULT_SPLIT_SIZE), settings);
  if (o.force && !resuming) rmSync(output, { recursive: true, force: true });
  const filesDir = layout.files;
  const jobId = saved?.jobId ?? o.jobId ?? `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const spec: MasterSpec = {
    jobId,
    ...settings,
    ...identity,
    jobName: compiled.name,
    ...(linkedOutside.length > 0 ? { linkedInputs: linkedOutside } : {}),
    output,
    splits,
    hasSetup,
    sandbox,
    ...(o.pods !== undefined ? { pods: o.pods } : {}),
    ...(o.files !== undefined && o.files.length > 0 ? { sideFiles: o.files.map((f) => basename(f)) } : {}),
    ...(o.streaming !== undefined
      ? {
          streaming: {
            mapper: o.streaming.mapper,
            reducer: o.streaming.reducer,
            ...(o.streaming.combiner !== undefined ? { combiner: o.streaming.combiner } : {}),
            filesDir,
            confine: o.confineStreaming ?? o.sandbox !== false,
            memoryLimitBytes: settings.workerMemoryBytes,
            taskTimeoutMs: settings.taskTimeoutMs,
          },
        }
      : {}),
  };
  writeJobDirectory(layout, spec, compiled.code, o.streaming?.files ?? o.files ?? [], resuming);
  return { spec, layout };
}

/**
 * Writes a prepared job's directory (OUTPUT/_temporary): its subdirectories, the bundle, a
 * streaming job's files, job.json last. A write that fails (a full storage) leaves no output
 * directory behind, unless it is an interrupted job's that `--resume` continues.
 */
function writeJobDirectory(layout: JobLayout, spec: MasterSpec, code: string, files: readonly string[], resuming: boolean): void {
  try {
    for (const dir of [layout.workDir, layout.attempts, layout.map, layout.reduce, layout.logs, layout.attemptLogs]) mkdirSync(dir, { recursive: true });
    writeFileAtomically(layout.bundle, code);
    if (files.length > 0 || spec.streaming !== undefined) {
      mkdirSync(layout.files, { recursive: true });
      for (const f of files) copyFileSync(f, join(layout.files, basename(f)));
    }
    writeMasterSpec(layout.spec, spec);
  } catch (e) {
    if (!resuming) rmSync(layout.output, { recursive: true, force: true });
    throw e;
  }
}

/** Worker processes on this machine, confined as the spec says (src/launcher/worker-sandbox.ts). */
export function localLauncher(
  spec: MasterSpec,
  layout: JobLayout,
  o: { verbose?: boolean; workerNodeArgs?: readonly string[]; confinement?: WorkerConfinement } = {},
): LocalLauncher {
  const launch = workerLaunch(spec, layout, {
    ...(o.workerNodeArgs !== undefined ? { nodeArgs: o.workerNodeArgs } : {}),
    ...(o.confinement !== undefined ? { confinement: o.confinement } : {}),
  });
  return new LocalLauncher({
    logDir: layout.logs,
    command: launch.command,
    ...(launch.masterSocket !== undefined ? { masterSocket: launch.masterSocket } : {}),
    echo: o.verbose === true,
    onStopped: launch.cleanup,
  });
}

/**
 * Runs the master of a prepared job until the job ends: on this machine for `torpedo run`, in a
 * pod or on another host for `torpedo master`. Whatever the launcher, a master that starts on a
 * job directory with committed tasks adopts them and runs only the rest.
 */
export async function runMaster(
  spec: MasterSpec,
  o: {
    launcher: Launcher;
    listenHost?: string;
    listenPort?: number;
    advertiseUrl?: string;
    token?: string;
    log?: (line: string) => void;
    onStart?: (master: Master) => void;
  },
): Promise<JobSummary> {
  // Workers may be sandboxed, and then cannot build bin/torpedo's bundle themselves.
  await ensureBundle();
  const { launcher, onStart, ...listen } = o;
  const layout = layoutForOutput(spec.output);
  const master = new Master({ ...spec, layout, ...listen }, launcher);
  onStart?.(master);
  // While the master runs: how `torpedo logs --follow OUTPUT` knows the job has not ended.
  markMasterRunning(layout);
  try {
    return await master.run();
  } finally {
    rmSync(layout.masterMark, { force: true });
  }
}

/** What a streaming job's workers are told to import: nothing runs it (they run the commands). */
const STREAMING_MODULE = 'export default { map() {}, reduce() {} };\n';

/** `--file` files must exist, be regular files, and have distinct names (they share one directory). */
function checkStreamingFiles(files: readonly string[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    if (!existsSync(f) || !statSync(f).isFile()) throw new TorpedoError('TORPEDO_ERR_JOB_NOT_FOUND', `--file ${JSON.stringify(f)}: no such file`);
    const name = basename(f);
    if (seen.has(name)) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `--file: two files are named ${JSON.stringify(name)}; they would overwrite each other in the task's directory`);
    seen.add(name);
  }
}

/** `--resume` must repeat the command it continues: the same job, inputs, R, splits and params. */
function checkResumable(saved: Record<string, unknown>, spec: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(spec)) {
    if (JSON.stringify(saved[key] ?? null) !== JSON.stringify(value)) {
      throw new TorpedoError(
        'TORPEDO_ERR_BAD_FLAG',
        `--resume: ${key} is ${JSON.stringify(value)} but the interrupted job had ${JSON.stringify(saved[key] ?? null)}; repeat its command`,
      );
    }
  }
}

/** `--resume` of a job whose output is complete: nothing to do. */
function alreadyComplete(output: string, job: string): JobSummary {
  const none = { tasks: 0, attempts: 0, failedAttempts: 0, lostAttempts: 0, killedAttempts: 0, backupAttempts: 0, reusedTasks: 0 };
  return {
    status: 'succeeded',
    jobId: '',
    job,
    output,
    wallMs: 0,
    inputBytes: 0,
    mbPerSecond: 0,
    counters: {},
    userCounters: {},
    phases: { setup: none, map: none, reduce: none },
    workers: [],
  };
}

function checkOutput(output: string, inputs: readonly string[], force: boolean): void {
  const out = canonical(output);
  for (const input of inputs.filter((i) => !isRemoteUri(i))) {
    const inp = canonical(resolve(input));
    if (out === inp || isInside(out, inp) || isInside(inp, out)) {
      throw new TorpedoError(
        'TORPEDO_ERR_OUTPUT_OVERLAPS_INPUT',
        `output ${JSON.stringify(output)} overlaps input ${JSON.stringify(input)}; choose an output directory outside the inputs`,
      );
    }
  }
  if (existsSync(output) && !force) {
    throw new TorpedoError('TORPEDO_ERR_OUTPUT_EXISTS', `output directory ${JSON.stringify(output)} exists; pass --force to replace it`);
  }
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
function canonical(p: string): string {
  if (existsSync(p)) return realpathSync(p);
  const parent = resolve(p, '..');
  if (parent === p) return p;
  return join(canonical(parent), relative(parent, p));
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
