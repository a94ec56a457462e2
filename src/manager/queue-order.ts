/**
 * The queue as users see it: the order queued jobs would start in, and why each waits. The
 * scheduler (job-scheduler.ts) starts, of each user's oldest queued job, the one whose owner has
 * the fewest jobs running, then whose owner's last start is the longest ago, then the oldest
 * (`fairKey`). Replaying that choice over the whole queue, each pick counted as a start, gives
 * each job's position: exact while no running job ends, and the order a freed slot goes in.
 */
import type { QueuePlace, QueueReason } from './rest-types.ts';

export type { QueuePlace, QueueReason };

export interface QueuedJob {
  readonly id: string;
  readonly ownerId: number;
  readonly createdAt: number;
}

/** Running jobs per owner, and each owner's last start (ms; 0 for never). */
export interface QueueState {
  readonly runningOf: ReadonlyMap<number, number>;
  readonly lastStart: ReadonlyMap<number, number>;
}

/** The scheduler's order of preference between owners' oldest queued jobs: smaller first. */
export function fairKey(job: QueuedJob, state: QueueState): [number, number, number] {
  return [state.runningOf.get(job.ownerId) ?? 0, state.lastStart.get(job.ownerId) ?? 0, job.createdAt];
}

export function compareFair(a: QueuedJob, b: QueuedJob, state: QueueState): number {
  const [ka, kb] = [fairKey(a, state), fairKey(b, state)];
  return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
}

/** Every queued job's id in the order the scheduler would start them. */
export function queueOrder(queued: readonly QueuedJob[], state: QueueState): string[] {
  const byOwner = new Map<number, QueuedJob[]>();
  for (const j of [...queued].sort((a, b) => a.createdAt - b.createdAt)) {
    const list = byOwner.get(j.ownerId) ?? [];
    list.push(j);
    byOwner.set(j.ownerId, list);
  }
  const runningOf = new Map(state.runningOf);
  const lastStart = new Map(state.lastStart);
  // Each simulated start is later than every real one.
  let clock = Math.max(Date.now(), ...lastStart.values());
  const order: string[] = [];
  for (;;) {
    const heads = [...byOwner.values()].map((l) => l[0]).filter((j): j is QueuedJob => j !== undefined);
    if (heads.length === 0) return order;
    const next = heads.sort((a, b) => compareFair(a, b, { runningOf, lastStart }))[0]!;
    order.push(next.id);
    byOwner.get(next.ownerId)!.shift();
    runningOf.set(next.ownerId, (runningOf.get(next.ownerId) ?? 0) + 1);
    lastStart.set(next.ownerId, ++clock);
  }
}

/**
 * Each queued job's place and reason. `running` is how many jobs run in all, `cap` the manager's
 * cap on that (TORPEDO_MAX_RUNNING_JOBS), `userCap` one user's (TORPEDO_MAX_RUNNING_JOBS_PER_USER).
 */
export function queuePlaces(queued: readonly QueuedJob[], state: QueueState, running: number, cap: number, userCap: number): Map<string, QueuePlace> {
  const owners = new Map(queued.map((j) => [j.id, j.ownerId]));
  const out = new Map<string, QueuePlace>();
  queueOrder(queued, state).forEach((id, i) => {
    const owner = owners.get(id)!;
    const reason: QueueReason = (state.runningOf.get(owner) ?? 0) >= userCap ? 'user-cap' : running >= cap ? 'running-jobs-cap' : 'starting';
    out.set(id, { position: i + 1, reason });
  });
  return out;
}
