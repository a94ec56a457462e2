// How fake-kube-api.ts's kubelet runs a pod as a container of the image (`kubelet: 'podman'`):
// the `podman run` arguments of one pod's container, from its spec, as a kubelet and a container
// runtime would apply them.
//
//  - securityContext (the container's over the pod's): runAsUser/runAsGroup → --user, fsGroup and
//    supplementalGroups → --group-add, readOnlyRootFilesystem → --read-only, capabilities →
//    --cap-drop/--cap-add, allowPrivilegeEscalation false → no-new-privileges, a seccomp profile
//    Unconfined → seccomp=unconfined (RuntimeDefault is podman's default profile). runAsNonRoot
//    with uid 0 is refused, as the kubelet refuses it;
//  - command and args: Kubernetes' `command` replaces the image's ENTRYPOINT, `args` its CMD;
//  - env: what the kubelet resolved (Secrets, the downward API with the pod's own IP);
//  - volumes: the binds the kubelet made (a claim's directory or subPath, an emptyDir's directory);
//  - resources.limits: memory → --memory, cpu → --cpus, when this host's cgroups have the
//    controller (`cgroupLimits()`); what was left out is reported;
//  - the network: the test's own (pod-network.ts), at the pod's address, its name as hostname.
import { existsSync, readFileSync } from 'node:fs';
import { podmanLimits } from './containers.ts';
import { NETWORK_LABEL, type PodNetwork } from './pod-network.ts';

export interface PodmanBind {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Which resource limits this host's cgroups can enforce in a container. */
export function cgroupLimits(): { readonly memory: boolean; readonly cpu: boolean } {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/);
    return { memory: controllers.includes('memory'), cpu: controllers.includes('cpu') };
  }
  return { memory: existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes'), cpu: existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') };
}

/** A Kubernetes quantity of memory in bytes ("512Mi", "1G", "1000"). */
export function memoryBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (m === null) throw new Error(`not a memory quantity: ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Math.ceil(Number(m[1]) * unit);
}

/** A Kubernetes quantity of CPU in cores ("500m", "2"). */
export function cpuCores(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

export class PodRefused extends Error {}

/**
 * `podman run` arguments (after `run`) for `container` of `pod`, up to and including the image and
 * its arguments. `skipped` collects the limits this host could not apply.
 */
export function podmanRunArgs(o: {
  readonly pod: any;
  readonly container: any;
  readonly name: string;
  readonly network: PodNetwork;
  readonly ip: string;
  readonly env: Readonly<Record<string, string>>;
  readonly binds: readonly PodmanBind[];
  readonly argv: { readonly command?: readonly string[]; readonly args: readonly string[] };
  readonly skipped: Set<string>;
}): string[] {
  const podSc = o.pod.spec.securityContext ?? {};
  const sc = { ...podSc, ...(o.container.securityContext ?? {}) };
  const args = ['--rm', `--name=${o.name}`, `--hostname=${o.pod.metadata.name}`, `--network=${o.network.name}`, `--ip=${o.ip}`, ...podmanLimits()];
  args.push(`--label=${NETWORK_LABEL}=${o.network.name}`, `--label=io.kubernetes.pod.name=${o.pod.metadata.name}`, `--label=io.kubernetes.pod.uid=${o.pod.metadata.uid}`);
  for (const [k, v] of Object.entries((o.pod.metadata.labels ?? {}) as Record<string, string>)) args.push(`--label=${k}=${v}`);
  if (sc.runAsNonRoot === true && sc.runAsUser === 0) throw new PodRefused('container has runAsNonRoot and image will run as root');
  if (sc.runAsUser !== undefined) args.push(`--user=${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`);
  for (const g of [...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc.supplementalGroups ?? [])]) args.push(`--group-add=${g}`);
  if (sc.readOnlyRootFilesystem === true) args.push('--read-only', '--read-only-tmpfs=false');
  for (const c of sc.capabilities?.drop ?? []) args.push(`--cap-drop=${c}`);
  for (const c of sc.capabilities?.add ?? []) args.push(`--cap-add=${c}`);
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt=no-new-privileges');
  if (sc.seccompProfile?.type === 'Unconfined') args.push('--security-opt=seccomp=unconfined');
  if (sc.privileged === true) args.push('--privileged');
  const limits = (o.container.resources?.limits ?? {}) as Record<string, string>;
  const host = cgroupLimits();
  if (limits['memory'] !== undefined) {
    if (host.memory) args.push(`--memory=${memoryBytes(limits['memory'])}b`);
    else o.skipped.add('memory (no memory cgroup controller)');
  }
  if (limits['cpu'] !== undefined) {
    if (host.cpu) args.push(`--cpus=${cpuCores(limits['cpu'])}`);
    else o.skipped.add('cpu (no cpu cgroup controller)');
  }
  for (const b of o.binds) args.push(`--volume=${b.source}:${b.target}:${b.readOnly ? 'ro' : 'rw'}`);
  for (const [k, v] of Object.entries(o.env)) args.push(`--env=${k}=${v}`);
  // A net for a test that dies before its cleanup: conmon kills the container after 15 minutes.
  args.push('--timeout=900');
  if (o.argv.command !== undefined) args.push(`--entrypoint=${JSON.stringify(o.argv.command)}`);
  args.push(o.container.image, ...o.argv.args);
  return args;
}
