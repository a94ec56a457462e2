import { constants } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TorpedoError } from '../errors.ts';
import { ATTEMPT_ID, parseAttemptId, taskName } from './task-names.ts';

/**
 * Where attempts' logs are kept, and how they are read back. Each attempt of a job writes one
 * file, `OUTPUT/_logs/<attemptId>.log` (`map-00003-a1.log`): what user code wrote to stdout and
 * stderr during the attempt (a streaming command's stderr too), and the worker's own lines about
 * it, cut at the job's `logCapBytes` with a last line saying how much was dropped. `_logs/` is
 * beside `_temporary/`, not in it, so the job commit does not remove it: logs outlive the job,
 * whether it succeeded or failed, until `--force` replaces the output or the manager's retention
 * removes them. Like `_SUCCESS`, its name starts with `_`: inputs, part listings and
 * `torpedo verify` skip it.
 *
 * Writer: the worker (worker/attempt-log.ts), inside its sandbox, where `_logs/` is writable
 * (and nothing else of the output). Readers: `torpedo logs` (cli/logs-command.ts) and the
 * manager's `GET /jobs/:id/logs…` (manager/routes/logs-routes.ts), which may run as root over
 * files a job's uid wrote: they open a name only if it is an attempt id, never follow a link,
 * and read only regular files.
 */

export const ATTEMPT_LOGS_DIR = '_logs';

export function attemptLogsDir(output: string): string {
  return join(output, ATTEMPT_LOGS_DIR);
}

/** The log file of attempt `attemptId`, which must be an attempt id (no path can be made of it). */
export function attemptLogPath(output: string, attemptId: string): string {
  checkAttemptId(attemptId);
  return join(attemptLogsDir(output), `${attemptId}.log`);
}

/** One kept log, as `torpedo logs JOB` and `GET /jobs/:id/logs` list it. */
export interface AttemptLogEntry {
  /** `map-00003-a1` */
  readonly attemptId: string;
  /** `map-00003` */
  readonly task: string;
  /** The attempt's number within its task, 0 for the first. */
  readonly attempt: number;
  readonly bytes: number;
}

/** Refuses what is not an attempt id (`../x`, `map-1/..`): TORPEDO_ERR_BAD_REQUEST naming the form expected. */
export function checkAttemptId(attemptId: string): void {
  if (!ATTEMPT_ID.test(attemptId)) {
    throw new TorpedoError('TORPEDO_ERR_BAD_REQUEST', `${JSON.stringify(attemptId)} is not an attempt id such as map-00003-a0`);
  }
}

/**
 * The kept logs of the job whose output is `output`, by task then attempt number; none if the job
 * has none (yet). Only regular files named like an attempt's log are listed.
 */
export async function listAttemptLogs(output: string): Promise<AttemptLogEntry[]> {
  const dir = attemptLogsDir(output);
  const names = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
    throw e;
  });
  const out: AttemptLogEntry[] = [];
  for (const d of names) {
    if (!d.isFile() || !d.name.endsWith('.log')) continue;
    const attemptId = d.name.slice(0, -'.log'.length);
    const ref = parseAttemptId(attemptId);
    if (ref === undefined) continue;
    const handle = await openLog(join(dir, d.name)).catch(() => undefined);
    if (handle === undefined) continue;
    try {
      out.push({ attemptId, task: taskName(ref), attempt: ref.attempt, bytes: (await handle.stat()).size });
    } finally {
      await handle.close();
    }
  }
  const order = ['setup', 'map', 'reduce'];
  return out.sort((a, b) => {
    const [ka, kb] = [parseAttemptId(a.attemptId), parseAttemptId(b.attemptId)];
    return order.indexOf(ka?.kind ?? '') - order.indexOf(kb?.kind ?? '') || (ka?.index ?? 0) - (kb?.index ?? 0) || a.attempt - b.attempt;
  });
}

/** A slice of a log: its bytes from `offset`, and the whole file's size. */
export interface LogSlice {
  readonly bytes: Buffer;
  readonly size: number;
}

/**
 * Up to `maxBytes` of attempt `attemptId`'s log from byte `offset` (a follower asks for what came
 * after what it has). TORPEDO_ERR_NOT_FOUND if there is no such log; a link or anything but a
 * regular file in its place counts as none.
 */
export async function readAttemptLog(output: string, attemptId: string, offset = 0, maxBytes = 8 << 20): Promise<LogSlice> {
  const path = attemptLogPath(output, attemptId);
  const handle = await openLog(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ELOOP' || e.code === 'ENOTDIR' || e instanceof NotAFile) {
      throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', `no log of attempt ${attemptId}`);
    }
    throw e;
  });
  try {
    const { size } = await handle.stat();
    const start = Math.min(offset, size);
    const length = Math.min(size - start, maxBytes);
    const bytes = Buffer.alloc(length);
    const { bytesRead } = length > 0 ? await handle.read(bytes, 0, length, start) : { bytesRead: 0 };
    return { bytes: bytes.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

class NotAFile extends Error {}

/** Opens a log without following a link (O_NOFOLLOW) or blocking on a FIFO (O_NONBLOCK); only a regular file. */
async function openLog(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw new NotAFile(path);
  }
  return handle;
}
