import type { V1Pod } from '@kubernetes/client-node';

/** Why a container may wait for ever: the kubelet retries, but something must change first. */
const STUCK_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError']);

/**
 * Why a pending pod has not started, if it waits for something that will not come by itself — an
 * image it cannot pull, a missing Secret, no node to run on — described for an error message;
 * undefined for a pod that is running, has ended, or is only slow. Callers decide how long to wait.
 */
export function startProblem(pod: V1Pod): string | undefined {
  if (pod.status?.phase !== 'Pending') return undefined;
  const name = pod.metadata?.name ?? '';
  const waiting = pod.status.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason !== undefined && STUCK_REASONS.has(w.reason));
  if (waiting !== undefined) return `pod ${name}: ${waiting.reason}: ${waiting.message ?? ''}`.trim();
  const unschedulable = pod.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable !== undefined) return `pod ${name} cannot be scheduled: ${unschedulable.reason ?? ''} ${unschedulable.message ?? ''}`.trim();
  return undefined;
}

/**
 * Why a pod that has not started waits, without its name, so that pods waiting for the same thing
 * read as one: the container's waiting reason (ErrImagePull, ImagePullBackOff, …) with its message,
 * the scheduler's verdict (`0/3 nodes are available: insufficient cpu`), or just its phase.
 */
export function waitingReason(pod: V1Pod): string {
  const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting).find((w) => w?.reason !== undefined);
  if (waiting !== undefined) return `${waiting.reason ?? ''}${waiting.message !== undefined && waiting.message !== '' ? `: ${waiting.message}` : ''}`;
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled !== undefined) return unscheduled.message !== undefined && unscheduled.message !== '' ? unscheduled.message : (unscheduled.reason ?? 'Unschedulable');
  return pod.status?.reason ?? 'not yet started';
}

/**
 * What keeps `wanted` pods of a Job from running, from the pods that exist and have not started:
 * `3 Pending: 0/3 nodes are available: insufficient cpu; 1 not created: …` — pods of the same
 * reason counted together, and those the Job controller has not created (refused by a
 * ResourceQuota or an admission policy: the Job's events, `kubectl describe job`, say which).
 */
export function missingPods(notStarted: readonly V1Pod[], created: number, wanted: number, jobName: string): string {
  const byReason = new Map<string, number>();
  for (const pod of notStarted) {
    const reason = waitingReason(pod);
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  const parts = [...byReason].map(([reason, n]) => `${n} Pending: ${reason}`);
  const uncreated = wanted - created;
  if (uncreated > 0) parts.push(`${uncreated} not created (a ResourceQuota or admission refused them? \`kubectl describe job ${jobName}\` says why)`);
  return parts.join('; ');
}
