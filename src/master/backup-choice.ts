import { taskInputBytes, type JobTask } from './job-tasks.ts';

/** A task is not backed up before it has run this long, however quick its peers were. */
export const MIN_BACKUP_AFTER_MS = 1000;

/**
 * Which straggler of a phase deserves a backup attempt on `workerId` (the paper's backup tasks),
 * or undefined. Asked by the master only when the phase has no pending task left.
 *
 * A candidate runs on one attempt only, on another worker, has run for at least a second (and half
 * the median), and is projected to take more than twice the median time of the phase's finished
 * attempts: projected from its progress (input bytes read, reported with heartbeats) for a map
 * task, from its elapsed time for the others. The one projected to end last is chosen.
 */
export function chooseBackup(tasks: readonly JobTask[], workerId: string, now: number, heartbeatMs: number): JobTask | undefined {
  const durations = tasks
    .flatMap((t) => t.attempts)
    .filter((a) => a.state === 'succeeded' && a.endedAt !== undefined)
    .map((a) => (a.endedAt as number) - a.startedAt)
    .sort((a, b) => a - b);
  const median = durations[Math.floor(durations.length / 2)];
  if (median === undefined) return undefined;
  let best: JobTask | undefined;
  let latest = 2 * median;
  for (const t of tasks) {
    if (t.state !== 'running') continue;
    const running = t.attempts.filter((a) => a.state === 'running');
    const only = running[0];
    if (running.length !== 1 || only === undefined || only.workerId === workerId) continue;
    const elapsed = now - only.startedAt;
    if (elapsed < Math.max(MIN_BACKUP_AFTER_MS, median / 2)) continue;
    let projected = elapsed;
    if (t.kind === 'map') {
      const fraction = only.bytes / Math.max(1, taskInputBytes(t));
      // No bytes yet: stuck if it has been silent for two heartbeats, else too early to tell.
      projected = fraction > 0 ? elapsed / Math.min(1, fraction) : elapsed > 2 * heartbeatMs ? Infinity : elapsed;
    }
    if (projected > latest) {
      latest = projected;
      best = t;
    }
  }
  return best;
}
