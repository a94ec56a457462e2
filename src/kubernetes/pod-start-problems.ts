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
