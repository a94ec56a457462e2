// A job's settings, in one table: what each one means, its type, its default, its bounds and its
// flag. `torpedo run` builds its flags and their help from it, `torpedo submit` and the manager's
// POST /jobs schema take the ones marked `api`, the manager and the UI fill in the same defaults,
// job.json (MasterSpec) stores them, and a worker receives the ones in WORKER_SETTINGS. Adding an
// option: docs/architecture.md, "Adding a job option".
//
// No imports and no runtime dependencies: the web UI imports this file too.

export interface SettingSpec {
  /** What it means: the CLI's help, the REST schema's description. */
  readonly help: string;
  /**
   * `count`: a positive integer; `bytes`: a size (`64MiB`, `64MB`); `ms`: milliseconds; `flag`: on
   * or off; `choice`: one of `choices`.
   */
  readonly kind: 'count' | 'bytes' | 'ms' | 'flag' | 'choice';
  /** The values of a `choice`, its default first. */
  readonly choices?: readonly string[];
  /**
   * The engine's value when none is given (`torpedo run`). `null`: unset (`splitSize` and `maps`:
   * the split size comes from the other, or DEFAULT_SPLIT_SIZE). 0 for a limit: none. `'cores'`:
   * the cores of the machine where the CLI runs.
   */
  readonly default: number | boolean | null | 'cores' | string;
  /** The manager's value for a job submitted without one, where it differs from `default`. */
  readonly apiDefault?: number;
  readonly min?: number;
  readonly max?: number;
  /** `torpedo run`'s flag, in commander's syntax. */
  readonly flag: string;
  /** Given `torpedo run` a commander default, shown in its help as `(default: …)`. */
  readonly showDefault?: boolean;
  /** Another setting this one cannot be given with. */
  readonly conflicts?: string;
  /** Users may set it through the manager (POST /jobs, `torpedo submit`, the UI). */
  readonly api?: boolean;
}

/** Bytes per map task when neither `splitSize` nor `maps` is given: 64 MiB (docs/units.md). */
export const DEFAULT_SPLIT_SIZE = 64 * 2 ** 20;

export const JOB_SETTINGS = {
  reducers: {
    help: 'number of reduce tasks and part files (R); 0: a map-only job, whose map tasks write part-m-NNNNN with no shuffle',
    kind: 'count',
    // One part file unless asked for more, in `torpedo run`, `torpedo submit` and the UI alike:
    // Hadoop's default (mapreduce.job.reduces), and a sort's whole answer in one file.
    default: 1,
    min: 0,
    max: 1000,
    flag: '-r, --reducers <n>',
    showDefault: true,
    api: true,
  },
  splitSize: { help: 'bytes per map task (default: 64MiB)', kind: 'bytes', default: null, min: 1024, flag: '--split-size <size>', conflicts: 'maps', api: true },
  maps: { help: 'number of map tasks (instead of --split-size)', kind: 'count', default: null, min: 1, max: 100_000, flag: '--maps <n>', api: true },
  workers: { help: 'number of worker processes', kind: 'count', default: 'cores', apiDefault: 2, min: 1, max: 1024, flag: '-w, --workers <n>', showDefault: true, api: true },
  memoryBytes: { help: 'buffer budget per task before spilling to disk', kind: 'bytes', default: 256 * 2 ** 20, flag: '--memory <size>', showDefault: true },
  workerMemoryBytes: {
    help: 'heap limit of each worker process; a task that exceeds it fails and is retried',
    kind: 'bytes',
    default: 0,
    flag: '--worker-memory <size>',
  },
  maxRecordBytes: {
    help: 'longest input line accepted (a longer one fails its task)',
    kind: 'bytes',
    default: 256 * 2 ** 20,
    flag: '--max-record-size <size>',
    showDefault: true,
  },
  mergeFactor: {
    help: 'most map outputs a reduce merges at once; more are merged in passes (Hadoop io.sort.factor)',
    kind: 'count',
    default: 100,
    min: 2,
    max: 10_000,
    flag: '--merge-factor <n>',
    showDefault: true,
  },
  maxAttempts: { help: 'attempts per task before the job fails', kind: 'count', default: 3, flag: '--max-attempts <n>', showDefault: true },
  backupTasks: { help: 'do not start backup attempts of stragglers at the end of a phase', kind: 'flag', default: true, flag: '--no-backup-tasks' },
  skipBadRecords: { help: 'skip an input record after it made map throw twice, and count it', kind: 'flag', default: false, flag: '--skip-bad-records', showDefault: true },
  leaseTimeoutMs: {
    help: 'ms without a heartbeat before a task is taken from its worker',
    kind: 'ms',
    default: 30_000,
    flag: '--lease-timeout <ms>',
    showDefault: true,
  },
  logCapBytes: {
    help: "most bytes kept of each attempt's log (OUTPUT/_logs/): what user code writes to stdout and stderr; the rest is counted, not kept",
    kind: 'bytes',
    default: 2 ** 20,
    min: 1024,
    max: 1024 * 2 ** 20,
    flag: '--log-cap <size>',
    showDefault: true,
  },
  inputCompression: {
    help: 'codec of the input files: auto (by extension: .gz, .bz2, .zst), none, gzip, bzip2 or zstd',
    kind: 'choice',
    choices: ['auto', 'none', 'gzip', 'bzip2', 'zstd'],
    default: 'auto',
    flag: '--input-compression <codec>',
    showDefault: true,
    api: true,
  },
  inputFormat: {
    help: 'record format of the input files: auto (by extension: .jsonl, .ndjson, .csv, .tsv; else text), text, jsonl or csv',
    kind: 'choice',
    choices: ['auto', 'text', 'jsonl', 'csv'],
    default: 'auto',
    flag: '--input-format <format>',
    showDefault: true,
    api: true,
  },
  csvDelimiter: {
    help: 'field delimiter of CSV input: auto (a tab in .tsv files, else a comma), comma, tab, semicolon or pipe',
    kind: 'choice',
    choices: ['auto', 'comma', 'tab', 'semicolon', 'pipe'],
    default: 'auto',
    flag: '--csv-delimiter <name>',
    showDefault: true,
    api: true,
  },
  csvHeader: { help: "CSV input has no header row: a record's value is an array of its fields, not an object", kind: 'flag', default: true, flag: '--no-csv-header', api: true },
  csvMultiline: {
    help: 'CSV input may have newlines inside quoted fields: each CSV file is then read as one split (by default files split at lines, and a quoted field that crosses a split fails its task)',
    kind: 'flag',
    default: false,
    flag: '--csv-multiline',
    api: true,
  },
  outputFormat: {
    help: 'how part files hold records: text (key<TAB>value), jsonl ({"key":…,"value":…} a line) or csv (a header row, then key and the value\'s fields; docs/output-formats.md)',
    kind: 'choice',
    choices: ['text', 'jsonl', 'csv'],
    default: 'text',
    flag: '--output-format <format>',
    showDefault: true,
    api: true,
  },
  outputCompression: {
    help: 'codec of the part files: none, gzip (part-r-00000.gz), zstd (.zst) or bzip2 (.bz2)',
    kind: 'choice',
    choices: ['none', 'gzip', 'zstd', 'bzip2'],
    default: 'none',
    flag: '--output-compression <codec>',
    showDefault: true,
    api: true,
  },
  taskTimeoutMs: { help: 'ms an attempt may run before it is stopped and retried (default: no limit)', kind: 'ms', default: 0, flag: '--task-timeout <ms>' },
} as const satisfies Readonly<Record<string, SettingSpec>>;

export type SettingName = keyof typeof JOB_SETTINGS;
export const SETTING_NAMES = Object.keys(JOB_SETTINGS) as SettingName[];

/** The settings users may give through the manager (POST /jobs, `torpedo submit`, the UI). */
export type ApiSettingName = { [K in SettingName]: (typeof JOB_SETTINGS)[K] extends { readonly api: true } ? K : never }[SettingName];
export const API_SETTINGS = SETTING_NAMES.filter((n): n is ApiSettingName => (JOB_SETTINGS[n] as SettingSpec).api === true);

type ValueOf<S extends SettingSpec> = S['kind'] extends 'flag'
  ? boolean
  : S extends { readonly choices: readonly (infer C)[] }
    ? C
    : S['default'] extends null
      ? number | null
      : number;

/**
 * A job's settings, every one decided. `splitSize` and `maps` may be `null` (unset); a limit of 0
 * is none (`workerMemoryBytes`: Node's own heap limit; `taskTimeoutMs`: no time limit).
 */
export type JobSettings = { readonly [K in SettingName]: ValueOf<(typeof JOB_SETTINGS)[K]> } & {
  /** How often a worker heartbeats: derived from the lease (`heartbeatFor`). */
  readonly heartbeatMs: number;
  /** The job's parameters (`--param key=value`, ctx.params). */
  readonly params: Readonly<Record<string, string>>;
};

/** The settings a worker receives when it registers (JobInfo); the rest are the master's. */
export const WORKER_SETTINGS = ['reducers', 'memoryBytes', 'maxRecordBytes', 'mergeFactor', 'heartbeatMs', 'logCapBytes', 'outputFormat', 'outputCompression', 'params', 'skipBadRecords', 'csvHeader'] as const satisfies readonly (keyof JobSettings)[];

/** A heartbeat a fifth of the lease, between 100 ms and 1 s: a lease survives four lost beats. */
export function heartbeatFor(leaseTimeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(leaseTimeoutMs / 5)));
}

/**
 * Every setting decided: the given ones, then the defaults (`cores`: the `cores` given;
 * `api`: the manager's defaults for settings it takes from users). Unknown keys are ignored.
 */
export function resolveSettings(given: Partial<Record<keyof JobSettings, unknown>>, o: { cores?: number; api?: boolean } = {}): JobSettings {
  const out: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = JOB_SETTINGS[name];
    const value = given[name];
    if (value !== undefined) out[name] = value;
    else if (o.api === true && spec.apiDefault !== undefined) out[name] = spec.apiDefault;
    else out[name] = spec.default === 'cores' ? (o.cores ?? 1) : spec.default;
  }
  const lease = out['leaseTimeoutMs'] as number;
  out['heartbeatMs'] = given.heartbeatMs ?? heartbeatFor(lease);
  out['params'] = { ...((given.params as Record<string, string> | undefined) ?? {}) };
  return out as JobSettings;
}

/** The settings of `all` named in `names`: what one process hands another. */
export function pickSettings<T extends Partial<JobSettings>, K extends keyof T & keyof JobSettings>(all: T, names: readonly K[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const n of names) out[n] = all[n];
  return out as Pick<T, K>;
}
