import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { V1VolumeMount } from '@kubernetes/client-node';
import { TorpedoError } from '../errors.ts';
import type { MasterSpec } from '../master/master-spec.ts';

/** The volume names every torpedo pod uses: the data claim, and an emptyDir on /tmp. */
export const DATA_VOLUME = 'data';
export const TMP_VOLUME = 'tmp';

/**
 * One directory (or file) of the data claim that a pod sees: `subPath` of the claim, at `path`,
 * the absolute path it has in the manager, so that the paths in job.json mean the same in every
 * pod. No pod mounts the whole claim: `subPath` is never empty.
 */
export interface PodMount {
  readonly path: string;
  readonly subPath: string;
  readonly readOnly: boolean;
}

/**
 * What a job's master and workers see of the data claim: the job's own directory, read-write —
 * the output's parent, HOME/jobs/<id> for the manager's jobs, which holds the output (and in it
 * job.json, the bundle and a streaming job's files) and the master's status file — and each input,
 * read-only (HOME/datasets/<owner>/<name>). Inputs inside the job's directory need no mount of
 * their own. A job directory that is the claim's root, or an input or output off the claim, is a
 * TORPEDO_ERR_CONFIG: the pods could not see it without seeing everything.
 */
export function jobMounts(dataPath: string, spec: Pick<MasterSpec, 'output' | 'inputs'>): PodMount[] {
  const jobDir = dirname(resolve(spec.output));
  const mounts: PodMount[] = [{ path: jobDir, subPath: subPathOf(dataPath, jobDir, "the job's directory (the output's parent)"), readOnly: false }];
  // Sorted: a directory comes before what is inside it.
  const inputs = [...new Set(spec.inputs.map((i) => resolve(i)))].sort();
  for (const input of inputs) {
    if (inside(jobDir, input)) throw new TorpedoError('TORPEDO_ERR_CONFIG', `the job's directory ${jobDir} is inside its input ${input}: its pods would write where they read`);
    if (mounts.some((m) => isWithin(input, m.path))) continue;
    mounts.push({ path: input, subPath: subPathOf(dataPath, input, `input ${input}`), readOnly: true });
  }
  return mounts;
}

/** A path's place in the data claim; its root, or a path off the claim, is refused. */
export function subPathOf(dataPath: string, path: string, what: string): string {
  const rel = relative(resolve(dataPath), resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    const where = rel === '' ? 'is the root of the data volume' : 'is not on the data volume';
    throw new TorpedoError(
      'TORPEDO_ERR_CONFIG',
      `${what} ${where} (TORPEDO_K8S_DATA_PATH ${dataPath}); on a cluster each job needs a directory of its own there, e.g. ${dataPath}/jobs/<id>/output`,
    );
  }
  return rel.split(sep).join('/');
}

/** The container's mounts: the claim's directories (outermost first, so nested ones go on top) and /tmp. */
export function volumeMounts(mounts: readonly PodMount[]): V1VolumeMount[] {
  return [
    ...[...mounts]
      .sort((a, b) => depth(a.path) - depth(b.path))
      .map((m) => ({ name: DATA_VOLUME, mountPath: m.path, subPath: m.subPath, ...(m.readOnly ? { readOnly: true } : {}) })),
    { name: TMP_VOLUME, mountPath: '/tmp' },
  ];
}

/** Whether `path` is `dir` or lies inside it (lexically). */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function inside(child: string, parent: string): boolean {
  return child !== parent && isWithin(child, parent);
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}
