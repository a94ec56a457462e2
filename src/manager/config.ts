import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { kubeSettingsFromEnv, type KubeSettings } from '../kubernetes/kube-settings.ts';
import { parseStorageUri } from '../storage/storage-uri.ts';
import { defaultHome } from './home-dir.ts';
import { DEFAULT_SANDBOX_IDS, parseSandboxIds, type SandboxIds } from '../sandbox/index.ts';

/** Everything the manager can be configured with; built once by `loadConfig`. */
export interface ManagerConfig {
  readonly host: string;
  readonly port: number;
  /** Storage root: datasets/, jobs/, and the embedded database in db/. */
  readonly home: string;
  /**
   * TORPEDO_STORAGE=s3://BUCKET/PREFIX/: where users' datasets are kept (DATASETS under
   * PREFIX/datasets/), in place of HOME/datasets; undefined: HOME. Credentials and endpoint: the
   * AWS SDK's standard variables and files.
   */
  readonly storage: string | undefined;
  /** postgres://… to use a PostgreSQL server; undefined for the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  readonly jwtSecret: string;
  readonly tokenTtlSeconds: number;
  readonly allowRegistration: boolean;
  /** Password of the `admin` account created on first start; generated (and printed) if unset. */
  readonly adminPassword: string | undefined;
  readonly maxUploadBytes: number;
  /** Jobs that run at once; the rest wait in the queue. */
  readonly maxRunningJobs: number;
  readonly maxWorkersPerJob: number;
  /**
   * TORPEDO_JOB_RETENTION_DAYS: a finished job (succeeded, failed, cancelled) is deleted with its
   * output this long after it ended; 0 (the default) keeps finished jobs until they are deleted.
   */
  readonly jobRetentionMs: number;
  /** Failed logins per device token, and per username from clients without one, within `loginWindowMs` before 429. */
  readonly loginAttempts: number;
  readonly loginWindowMs: number;
  readonly production: boolean;
  /**
   * TORPEDO_LAUNCHER: `local` (default) runs each job's master in this process and its workers as
   * child processes; `kubernetes` runs each job as a master Job on the cluster (src/kubernetes/),
   * with its settings in `kubernetes`.
   */
  readonly launcher: 'local' | 'kubernetes';
  readonly kubernetes: KubeSettings | undefined;
  /** Limits on users' code and jobs (docs/security.md). */
  readonly limits: JobLimits;
  /** The HTTP layer's defences: who reads /metrics, how long a request may take to arrive. */
  readonly http: HttpSettings;
  /**
   * TORPEDO_LOG_RETENTION_DAYS (default 30; fractions allowed; 0: for ever): how long attempts'
   * logs of a finished job are kept after it ended (manager/log-retention.ts).
   */
  readonly logRetentionMs: number;
}

/** How the manager confines and bounds users' jobs; every field is a setting (docs/manager.md). */
export interface JobLimits {
  /**
   * TORPEDO_ALLOW_WEAK_SANDBOX=true: run users' code although it cannot be fully confined here
   * (not root, no bubblewrap: see docs/security.md). Off: such jobs are refused (503).
   */
  readonly allowWeakSandbox: boolean;
  /** TORPEDO_SANDBOX_IDS: the uids and gids of jobs' sandboxes. */
  readonly sandboxIds: SandboxIds;
  /** TORPEDO_MAX_COMPILES: submitted modules bundled and type-checked at once. */
  readonly maxCompiles: number;
  /** TORPEDO_MAX_QUEUED_COMPILES: submissions waiting for a compile slot; beyond, 429. */
  readonly maxQueuedCompiles: number;
  /** TORPEDO_COMPILE_TIMEOUT_SECONDS: a submission's bundling and type-checking, at most. */
  readonly compileTimeoutMs: number;
  /** TORPEDO_TASK_TIMEOUT_SECONDS: an attempt running longer is stopped and retried. */
  readonly taskTimeoutMs: number;
  /** TORPEDO_WORKER_MEMORY_MB: each worker's JavaScript heap (and, with its buffers, its memory limit). */
  readonly workerMemoryBytes: number;
  /** TORPEDO_MAX_RUNNING_JOBS_PER_USER: one user's jobs running at once (the rest wait). */
  readonly maxRunningJobsPerUser: number;
  /** TORPEDO_MAX_QUEUED_JOBS_PER_USER: one user's jobs waiting; beyond, 429. */
  readonly maxQueuedJobsPerUser: number;
}

/** The manager's HTTP-layer settings (docs/manager.md, "Settings"). */
export interface HttpSettings {
  /** TORPEDO_METRICS_TOKEN: a bearer token that may read /metrics, besides admins' tokens; undefined: admins only. */
  readonly metricsToken: string | undefined;
  /** TORPEDO_HEADERS_TIMEOUT_SECONDS: a request's headers must have arrived by then (slowloris). */
  readonly headersTimeoutMs: number;
  /** TORPEDO_BODY_TIMEOUT_SECONDS: a body that is not an upload must have arrived whole by then; also an upload's rate window. */
  readonly bodyTimeoutMs: number;
  /** TORPEDO_UPLOAD_MIN_BYTES: what an upload must bring in every `bodyTimeoutMs` window. */
  readonly uploadMinBytes: number;
  /** TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS: an idle kept-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

/** The secret that ships in docs and examples; refused in production. */
export const DEFAULT_JWT_SECRET = 'torpedo-development-secret';

type Flags = Partial<Record<'host' | 'port' | 'home' | 'databaseUrl', string>>;

/**
 * Reads the configuration from flags (which win) and TORPEDO_* environment variables. In
 * production (NODE_ENV=production) a missing, short or default JWT secret is refused; elsewhere a
 * random one is generated once and kept in HOME/jwt-secret (mode 0600) so tokens survive restarts.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Flags = {}): ManagerConfig {
  const production = env['NODE_ENV'] === 'production';
  const home = resolve(flags.home ?? (env['TORPEDO_HOME'] || defaultHome(env)));
  let jwtSecret = env['TORPEDO_JWT_SECRET'];
  if (production && (jwtSecret === undefined || jwtSecret === DEFAULT_JWT_SECRET || jwtSecret.length < 32)) {
    throw new TorpedoError(
      'TORPEDO_ERR_CONFIG',
      'NODE_ENV=production needs TORPEDO_JWT_SECRET: a random secret of at least 32 characters (e.g. `openssl rand -base64 48`), not the default',
    );
  }
  jwtSecret ??= developmentSecret(home);
  const launcher = env['TORPEDO_LAUNCHER'] || 'local';
  if (launcher !== 'local' && launcher !== 'kubernetes') {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_LAUNCHER must be \`local\` or \`kubernetes\`, not ${JSON.stringify(launcher)}`);
  }
  // Job directories are under HOME; on a cluster they must be on the data volume, at the same path in every pod.
  const kubernetes = launcher === 'kubernetes' ? kubeSettingsFromEnv({ ...env, TORPEDO_HOME: home }) : undefined;
  if (kubernetes !== undefined && home !== kubernetes.dataPath && !home.startsWith(`${kubernetes.dataPath}/`)) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_HOME (${home}) must be on the data volume, mounted at TORPEDO_K8S_DATA_PATH (${kubernetes.dataPath}) in masters and workers`);
  }
  const storage = env['TORPEDO_STORAGE'] || undefined;
  if (storage !== undefined) checkStorage(storage, launcher);
  return {
    storage,
    host: flags.host ?? env['TORPEDO_HOST'] ?? (production ? '0.0.0.0' : '127.0.0.1'),
    port: integer('port', flags.port ?? env['TORPEDO_PORT'] ?? env['PORT'] ?? '7777', 0, 65535),
    home,
    databaseUrl: flags.databaseUrl ?? env['DATABASE_URL'] ?? undefined,
    jwtSecret,
    tokenTtlSeconds: integer('TORPEDO_TOKEN_TTL', env['TORPEDO_TOKEN_TTL'] ?? '3600', 10, 30 * 86400),
    allowRegistration: (env['TORPEDO_ALLOW_REGISTRATION'] ?? 'true') !== 'false',
    adminPassword: env['TORPEDO_ADMIN_PASSWORD'] || undefined,
    maxUploadBytes: integer('TORPEDO_MAX_UPLOAD_BYTES', env['TORPEDO_MAX_UPLOAD_BYTES'] ?? String(10 * 2 ** 30), 1, Number.MAX_SAFE_INTEGER),
    maxRunningJobs: integer('TORPEDO_MAX_RUNNING_JOBS', env['TORPEDO_MAX_RUNNING_JOBS'] ?? '2', 1, 1000),
    maxWorkersPerJob: integer('TORPEDO_MAX_WORKERS_PER_JOB', env['TORPEDO_MAX_WORKERS_PER_JOB'] ?? '16', 1, 1024),
    jobRetentionMs: 86_400_000 * integer('TORPEDO_JOB_RETENTION_DAYS', env['TORPEDO_JOB_RETENTION_DAYS'] ?? '0', 0, 36_500),
    loginAttempts: integer('TORPEDO_LOGIN_ATTEMPTS', env['TORPEDO_LOGIN_ATTEMPTS'] ?? '10', 1, 1e6),
    loginWindowMs: 60_000 * integer('TORPEDO_LOGIN_WINDOW_MINUTES', env['TORPEDO_LOGIN_WINDOW_MINUTES'] ?? '15', 1, 1440),
    production,
    launcher,
    kubernetes,
    limits: jobLimits(env),
    http: httpSettings(env),
    logRetentionMs: days('TORPEDO_LOG_RETENTION_DAYS', env['TORPEDO_LOG_RETENTION_DAYS'] ?? '30'),
  };
}

function jobLimits(env: NodeJS.ProcessEnv): JobLimits {
  const maxRunningJobs = integer('TORPEDO_MAX_RUNNING_JOBS', env['TORPEDO_MAX_RUNNING_JOBS'] ?? '2', 1, 1000);
  return {
    allowWeakSandbox: env['TORPEDO_ALLOW_WEAK_SANDBOX'] === 'true',
    sandboxIds: parseSandboxIds(env['TORPEDO_SANDBOX_IDS'] ?? DEFAULT_SANDBOX_IDS),
    maxCompiles: integer('TORPEDO_MAX_COMPILES', env['TORPEDO_MAX_COMPILES'] ?? '2', 1, 64),
    maxQueuedCompiles: integer('TORPEDO_MAX_QUEUED_COMPILES', env['TORPEDO_MAX_QUEUED_COMPILES'] ?? '16', 0, 10_000),
    compileTimeoutMs: 1000 * integer('TORPEDO_COMPILE_TIMEOUT_SECONDS', env['TORPEDO_COMPILE_TIMEOUT_SECONDS'] ?? '60', 1, 3600),
    taskTimeoutMs: 1000 * integer('TORPEDO_TASK_TIMEOUT_SECONDS', env['TORPEDO_TASK_TIMEOUT_SECONDS'] ?? '3600', 1, 7 * 86400),
    workerMemoryBytes: 2 ** 20 * integer('TORPEDO_WORKER_MEMORY_MB', env['TORPEDO_WORKER_MEMORY_MB'] ?? '2048', 64, 1 << 20),
    maxRunningJobsPerUser: integer('TORPEDO_MAX_RUNNING_JOBS_PER_USER', env['TORPEDO_MAX_RUNNING_JOBS_PER_USER'] ?? String(maxRunningJobs), 1, 1000),
    maxQueuedJobsPerUser: integer('TORPEDO_MAX_QUEUED_JOBS_PER_USER', env['TORPEDO_MAX_QUEUED_JOBS_PER_USER'] ?? '50', 0, 100_000),
  };
}

function httpSettings(env: NodeJS.ProcessEnv): HttpSettings {
  const metricsToken = env['TORPEDO_METRICS_TOKEN'] || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', 'TORPEDO_METRICS_TOKEN must be a random secret of at least 16 characters (e.g. `openssl rand -hex 32`)');
  }
  return {
    metricsToken,
    headersTimeoutMs: 1000 * integer('TORPEDO_HEADERS_TIMEOUT_SECONDS', env['TORPEDO_HEADERS_TIMEOUT_SECONDS'] ?? '20', 1, 3600),
    bodyTimeoutMs: 1000 * integer('TORPEDO_BODY_TIMEOUT_SECONDS', env['TORPEDO_BODY_TIMEOUT_SECONDS'] ?? '30', 1, 3600),
    uploadMinBytes: integer('TORPEDO_UPLOAD_MIN_BYTES', env['TORPEDO_UPLOAD_MIN_BYTES'] ?? String(64 * 1024), 1, 2 ** 40),
    keepAliveTimeoutMs: 1000 * integer('TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS', env['TORPEDO_KEEP_ALIVE_TIMEOUT_SECONDS'] ?? '72', 1, 3600),
  };
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be an integer in [${min}, ${max}], not ${JSON.stringify(value)}`);
  }
  return n;
}

/** A number of days, fractions allowed (0.5: twelve hours), as milliseconds. */
function days(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 36_500) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `${name} must be a number of days in [0, 36500] (0: keep for ever), not ${JSON.stringify(value)}`);
  }
  return Math.round(n * 86_400_000);
}

/** TORPEDO_STORAGE must name an S3 prefix; jobs on Kubernetes cannot read it yet (no gateway in pods). */
function checkStorage(storage: string, launcher: string): void {
  let at: ReturnType<typeof parseStorageUri>;
  try {
    at = parseStorageUri(storage);
  } catch (e) {
    throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_STORAGE: ${(e as Error).message}`);
  }
  if (at.scheme !== 's3') throw new TorpedoError('TORPEDO_ERR_CONFIG', `TORPEDO_STORAGE must be s3://BUCKET/PREFIX/ (unset: datasets under TORPEDO_HOME), not ${JSON.stringify(storage)}`);
  if (launcher === 'kubernetes') throw new TorpedoError('TORPEDO_ERR_CONFIG', 'TORPEDO_STORAGE=s3://… works with TORPEDO_LAUNCHER=local for now: worker pods have no storage gateway yet (docs/storage.md)');
}

function developmentSecret(home: string): string {
  const file = join(home, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
