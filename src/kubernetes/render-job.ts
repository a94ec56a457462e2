import { dirname, join } from 'node:path';
import type { V1Job, V1NetworkPolicy, V1Secret } from '@kubernetes/client-node';
import type { MasterSpec } from '../master/master-spec.ts';
import { layoutForOutput } from '../master/job-layout.ts';
import { MASTER_STATUS_FILE } from '../protocol/master-status.ts';
import type { KubeSettings } from './kube-settings.ts';
import { jobObjectNames } from './names.ts';
import { workersNetworkPolicy } from './network-policies.ts';
import { jobSecret, masterJob, ownerReference, workersJob } from './objects.ts';

/**
 * Every object a job gets on a cluster: by the manager, its Secret, master Job and workers'
 * NetworkPolicy (created master Job first, Secret last); by the master, its workers Job. What the
 * API server fills in (uids, the master pod's IP, the generated token) is shown as a placeholder
 * in angle brackets.
 */
export function renderJobObjects(
  spec: MasterSpec,
  settings: KubeSettings,
  o: { readonly namespace: string; readonly jobId?: string; readonly statusFile?: string; readonly masterUrl?: string },
): (V1Secret | V1Job | V1NetworkPolicy)[] {
  const jobId = o.jobId ?? spec.jobId;
  const names = jobObjectNames(jobId);
  const owner = ownerReference({ apiVersion: 'batch/v1', kind: 'Job', name: names.master, uid: `<uid of Job ${names.master}>` });
  return [
    jobSecret({ namespace: o.namespace, jobId, token: '<random, made when the job is started>', owner }),
    masterJob({
      settings,
      namespace: o.namespace,
      jobId,
      jobDir: layoutForOutput(spec.output).workDir,
      // Where the manager has its masters write their status: next to the job's output directory.
      statusFile: o.statusFile ?? join(dirname(spec.output), MASTER_STATUS_FILE),
      spec,
    }),
    workersNetworkPolicy({ settings, namespace: o.namespace, jobId, owner }),
    workersJob({
      settings,
      namespace: o.namespace,
      spec: { ...spec, jobId },
      masterUrl: o.masterUrl ?? `http://<master pod IP>:${settings.masterPort}`,
      owner,
    }),
  ];
}
