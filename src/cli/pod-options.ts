import { InvalidArgumentError, type Command } from 'commander';
import type { PodRequest, Toleration } from '../protocol/pod-settings.ts';

// The flags of a job's pod settings on Kubernetes (src/protocol/pod-settings.ts, PodRequest), one
// spelling for `torpedo submit` and `torpedo k8s render-job`. They are checked where they apply:
// against the schema and the operator's bounds (src/kubernetes/pod-policy.ts).

interface PodFlags {
  readonly podCpu?: string;
  readonly podMemory?: string;
  readonly nodeSelector?: Record<string, string>;
  readonly toleration?: Toleration[];
  readonly priorityClass?: string;
}

export function addPodOptions(command: Command): Command {
  return command
    .option('--pod-cpu <quantity>', "on Kubernetes: each worker's CPU request, e.g. 2 or 1500m (within the operator's bounds)")
    .option('--pod-memory <quantity>', "on Kubernetes: each worker's memory request and limit, e.g. 4Gi (default: from the job's memory settings)")
    .option('--node-selector <key=value>', "on Kubernetes: a node label the job's pods must run on; repeatable (keys the operator allows)", nodeSelector)
    .option('--toleration <key[=value][:effect]>', "on Kubernetes: a taint the job's pods tolerate (key=value:NoSchedule; key:NoSchedule or key for any value); repeatable", toleration)
    .option('--priority-class <name>', "on Kubernetes: the PriorityClass of the job's pods (one the operator allows)");
}

/** What the flags ask of the job's pods, or undefined when none was given. */
export function podRequestOf(flags: object): PodRequest | undefined {
  const f = flags as PodFlags;
  const request: PodRequest = {
    ...(f.podCpu !== undefined ? { cpu: f.podCpu } : {}),
    ...(f.podMemory !== undefined ? { memory: f.podMemory } : {}),
    ...(f.nodeSelector !== undefined ? { nodeSelector: f.nodeSelector } : {}),
    ...(f.toleration !== undefined ? { tolerations: f.toleration } : {}),
    ...(f.priorityClass !== undefined ? { priorityClassName: f.priorityClass } : {}),
  };
  return Object.keys(request).length > 0 ? request : undefined;
}

function nodeSelector(value: string, all: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`${JSON.stringify(value)} is not key=value`);
  return { ...all, [value.slice(0, at)]: value.slice(at + 1) };
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

function toleration(value: string, all: Toleration[] | undefined): Toleration[] {
  const colon = value.lastIndexOf(':');
  const effect = colon >= 0 ? value.slice(colon + 1) : undefined;
  if (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect)) {
    throw new InvalidArgumentError(`${JSON.stringify(value)}: the effect after ':' is one of ${EFFECTS.join(', ')}`);
  }
  const pair = colon >= 0 ? value.slice(0, colon) : value;
  const at = pair.indexOf('=');
  const key = at >= 0 ? pair.slice(0, at) : pair;
  if (key === '') throw new InvalidArgumentError(`${JSON.stringify(value)} names no taint key`);
  const t: Toleration = {
    key,
    ...(at >= 0 ? { operator: 'Equal', value: pair.slice(at + 1) } : { operator: 'Exists' }),
    ...(effect !== undefined ? { effect: effect as Toleration['effect'] & string } : {}),
  };
  return [...(all ?? []), t];
}
