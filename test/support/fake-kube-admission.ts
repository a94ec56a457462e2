// What the fake API server (fake-kube-api.ts) checks before it stores an object or creates a pod,
// as kube-apiserver and its admission plugins would: the object against the API's schema (with
// kubernetes-models: types, required fields, allowed values), a few of the server's own
// validation rules on volume mounts, and the "restricted" Pod Security Standard, which deploy/
// enforces on the namespace (pod-security.kubernetes.io/enforce: restricted).
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Secret } from 'kubernetes-models/v1/Secret';

const MODELS: Record<string, new (data: any) => { validate(): void }> = { jobs: Job, secrets: Secret, networkpolicies: NetworkPolicy };

/** Why the API server would refuse `obj` (a 422), or undefined. */
export function schemaProblem(kind: string, obj: unknown): string | undefined {
  const Model = MODELS[kind];
  if (Model === undefined) return undefined;
  try {
    new Model(obj).validate();
  } catch (e) {
    return (e as Error).message;
  }
  if (kind === 'jobs') return mountProblem((obj as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec);
  return undefined;
}

type PodSpec = {
  volumes?: { name: string; [k: string]: unknown }[];
  containers?: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & { runAsNonRoot?: boolean };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
};
type Container = {
  name: string;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  securityContext?: SecurityContext & { privileged?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  ports?: { hostPort?: number }[];
};
type SecurityContext = { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type?: string } };

/** The API server's own rules for volume mounts (ValidateVolumeMounts), the ones torpedo could break. */
function mountProblem(spec: PodSpec | undefined): string | undefined {
  const volumes = new Set((spec?.volumes ?? []).map((v) => v.name));
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    const paths = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) return `spec.template.spec.containers[${c.name}].volumeMounts.name: Not found: "${m.name}"`;
      if (paths.has(m.mountPath)) return `spec.template.spec.containers[${c.name}].volumeMounts.mountPath: Invalid value: "${m.mountPath}": must be unique`;
      paths.add(m.mountPath);
      if (m.subPath !== undefined && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
        return `spec.template.spec.containers[${c.name}].volumeMounts.subPath: Invalid value: "${m.subPath}": must be a relative path without '..'`;
      }
    }
  }
  return undefined;
}

const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** How a pod breaks the "restricted" Pod Security Standard (latest), as the admission plugin words it; empty if it does not. */
export function restrictedViolations(spec: PodSpec): string[] {
  const out: string[] = [];
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const pod = spec.securityContext ?? {};
  if (spec.hostNetwork === true || spec.hostPID === true || spec.hostIPC === true) out.push('host namespaces');
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type === undefined || !RESTRICTED_VOLUMES.includes(type)) out.push(`restricted volume types (volume "${v.name}" uses ${type ?? 'nothing'})`);
  }
  for (const c of containers) {
    const s = c.securityContext ?? {};
    if (s.privileged === true) out.push(`privileged (container "${c.name}")`);
    if (s.allowPrivilegeEscalation !== false) out.push(`allowPrivilegeEscalation != false (container "${c.name}" must set securityContext.allowPrivilegeEscalation=false)`);
    if (!(s.capabilities?.drop ?? []).includes('ALL')) out.push(`unrestricted capabilities (container "${c.name}" must set securityContext.capabilities.drop=["ALL"])`);
    const added = (s.capabilities?.add ?? []).filter((a) => a !== 'NET_BIND_SERVICE');
    if (added.length > 0) out.push(`unrestricted capabilities (container "${c.name}" must not add ${added.join(', ')})`);
    if ((s.runAsNonRoot ?? pod.runAsNonRoot) !== true) out.push(`runAsNonRoot != true (container "${c.name}")`);
    if ((s.runAsUser ?? pod.runAsUser) === 0) out.push(`runAsUser=0 (container "${c.name}")`);
    const seccomp = s.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`seccompProfile (container "${c.name}" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
    if ((c.ports ?? []).some((p) => p.hostPort !== undefined && p.hostPort !== 0)) out.push(`hostPort (container "${c.name}")`);
  }
  return out;
}
