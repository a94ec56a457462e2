import type { V1NetworkPolicy, V1OwnerReference } from '@kubernetes/client-node';
import type { KubeSettings } from './kube-settings.ts';
import { COMPONENT_LABEL, JOB_ID_LABEL, jobLabels, jobObjectMeta, jobObjectNames, type Component } from './names.ts';

// The NetworkPolicies torpedo creates per job. Policies only ever add what is allowed (a pod
// selected by several may do what any of them allows), so these work with deploy/'s: a default
// deny for the namespace and no static rule for workers or compile pods. No DNS: a worker is told
// its master's pod IP.

/**
 * The workers of a job: no ingress; egress only to their own master pod's task port. Created by
 * the manager with the master Job, before the Secret without which no pod of the job starts, and
 * owned by the master Job, so that it goes with it.
 */
export function workersNetworkPolicy(o: { readonly settings: KubeSettings; readonly namespace: string; readonly jobId: string; readonly owner?: V1OwnerReference }): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: jobObjectMeta({ name: jobObjectNames(o.jobId).network, namespace: o.namespace, jobId: o.jobId, component: 'worker', owner: o.owner }),
    spec: {
      podSelector: { matchLabels: podsOf(o.jobId, 'worker') },
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: podsOf(o.jobId, 'master') } }], ports: [{ protocol: 'TCP', port: o.settings.masterPort }] }],
    },
  };
}

/** A submission's compile pod: no traffic at all, either way. Owned by its compile Job. */
export function compileNetworkPolicy(o: { readonly namespace: string; readonly jobId: string; readonly owner?: V1OwnerReference }): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: jobObjectMeta({ name: jobObjectNames(o.jobId).compile, namespace: o.namespace, jobId: o.jobId, component: 'compile', owner: o.owner }),
    spec: { podSelector: { matchLabels: podsOf(o.jobId, 'compile') }, policyTypes: ['Ingress', 'Egress'] },
  };
}

/** The labels that pick one job's pods of one component (every torpedo pod carries them). */
function podsOf(jobId: string, component: Component): Record<string, string> {
  const labels = jobLabels(jobId, component);
  return { 'app.kubernetes.io/name': 'torpedo', [COMPONENT_LABEL]: component, [JOB_ID_LABEL]: labels[JOB_ID_LABEL] as string };
}
