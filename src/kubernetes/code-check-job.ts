import { dirname } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import type { KubeSettings } from './kube-settings.ts';
import { jobLabels, jobObjectNames } from './names.ts';
import { containerSecurity, podSpec, userCodePod } from './objects.ts';
import { subPathOf, volumeMounts, type PodMount } from './pod-mounts.ts';

/** How long a probe may take to load the bundle (src/job/probe-job.ts), and a pod to start. */
const PROBE_SECONDS = 15;
const START_SECONDS = 30;

/** What one compile pod does: bundle (and type-check) `source` into `bundle`, then load the bundle once. */
export interface CodeCheckPlan {
  readonly jobId: string;
  /** The module as submitted; absent: only load `bundle` (a job stored before its load was kept). */
  readonly source?: string;
  readonly bundle: string;
  /** Where the pod writes its one-line JSON answer: beside the bundle (the only place it may write). */
  readonly answer: string;
  readonly typecheck: boolean;
  /** How error locations name the module, and the directory they are relative to. */
  readonly name: string;
  readonly relativeTo: string;
  /** The manager's compile time limit (TORPEDO_COMPILE_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
}

/** The Job's deadline: the compile's limit, the probe's, and time for the pod to start. */
export function codeCheckDeadlineSeconds(timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + PROBE_SECONDS + START_SECONDS;
}

/**
 * A compile Job: one pod, never retried, that runs `torpedo check-job` on a submission. It runs
 * user code (esbuild and tsc follow the module's imports; the probe runs its top-level code), so it
 * gets what workers get and less: the workers' account without its token, non-root, no
 * capabilities, a read-only root filesystem, CPU and memory limits, a deadline, no network (its
 * NetworkPolicy, network-policies.ts), and of the data claim only the submission's directory,
 * read-only, and the bundle's, writable — HOME/jobs/<id> and HOME/jobs/<id>/bundle, at those paths.
 */
export function codeCheckJob(o: { readonly settings: KubeSettings; readonly namespace: string; readonly plan: CodeCheckPlan }): V1Job {
  const s = o.settings;
  const p = o.plan;
  const labels = jobLabels(p.jobId, 'compile');
  const mounts: PodMount[] = [
    ...(p.source !== undefined ? [{ path: dirname(p.source), subPath: subPathOf(s.dataPath, dirname(p.source), "the submission's directory"), readOnly: true }] : []),
    { path: dirname(p.bundle), subPath: subPathOf(s.dataPath, dirname(p.bundle), "the bundle's directory"), readOnly: false },
  ];
  // After the image's ENTRYPOINT (tini -- node /app/bin/torpedo), as the master's and workers' args.
  const args = [
    'check-job',
    ...(p.source !== undefined ? [p.source] : []),
    '--out',
    p.bundle,
    '--answer',
    p.answer,
    '--name',
    p.name,
    '--relative-to',
    p.relativeTo,
    '--timeout',
    String(p.timeoutMs),
    ...(p.typecheck ? ['--typecheck'] : []),
  ];
  const resources = { cpu: s.compileCpu, memory: s.compileMemory };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobObjectNames(p.jobId).compile, namespace: o.namespace, labels },
    spec: {
      // A check that failed says so in its answer; a pod that died (out of memory, say) is not retried.
      backoffLimit: 0,
      activeDeadlineSeconds: codeCheckDeadlineSeconds(p.timeoutMs),
      // The manager deletes it when it has read the answer; this is for a manager that stopped first.
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: podSpec(
          s,
          {
            restartPolicy: 'Never',
            serviceAccountName: s.workerServiceAccount,
            automountServiceAccountToken: false,
            ...userCodePod(s),
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'compile',
                image: s.image,
                ...(s.imagePullPolicy !== undefined ? { imagePullPolicy: s.imagePullPolicy } : {}),
                args,
                resources: { requests: resources, limits: resources },
                securityContext: containerSecurity(),
                volumeMounts: volumeMounts(mounts),
              },
            ],
          },
          { tmpSizeLimit: '256Mi' },
        ),
      },
    },
  };
}
