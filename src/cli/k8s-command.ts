import { Option, type Command } from 'commander';
import { isTorpedoError } from '../errors.ts';
import { addPodOptions, podRequestOf } from './pod-options.ts';

interface RenderFlags {
  output: 'yaml' | 'json';
  namespace?: string;
  jobId?: string;
  statusFile?: string;
  masterUrl?: string;
}

/** `torpedo k8s …`: Kubernetes helpers. */
export function registerK8sCommand(program: Command): void {
  const k8s = program.command('k8s').description('Kubernetes helpers');
  const render = k8s
    .command('render-job <spec>')
    .description(
      'print the objects torpedo creates on a cluster for a prepared job (OUTPUT/_temporary or its job.json, e.g. from `torpedo run … --prepare-only`): the Secret, master Job and NetworkPolicy (for its workers) the manager creates, and the workers Job its master creates. Settings come from TORPEDO_K8S_* as for the manager, pod settings from job.json (the --pod-* flags, --node-selector, --toleration and --priority-class replace them, checked against the operator bounds as at submit); nothing is sent to a cluster',
    )
    .addOption(new Option('-o, --output <format>', 'yaml documents, or one JSON List').choices(['yaml', 'json']).default('yaml'))
    .option('-n, --namespace <ns>', 'namespace (default: $TORPEDO_K8S_NAMESPACE, else default)')
    .option('--job-id <id>', "name and label the objects after this id (the manager's job id) instead of job.json's")
    .option('--status-file <path>', "the master's status file (default: next to the output directory, as the manager has it)")
    .option('--master-url <url>', "the master's address given to workers (default: a placeholder for the master pod's IP)");
  addPodOptions(render).action(async (spec: string, flags: RenderFlags) => {
      process.exitCode = await renderJob(spec, flags);
    });
}

async function renderJob(specPath: string, flags: RenderFlags): Promise<number> {
  const [{ readMasterSpec }, { kubeSettingsFromEnv }, { renderJobObjects }, { stringify }] = await Promise.all([
    import('../master/master-spec.ts'),
    import('../kubernetes/kube-settings.ts'),
    import('../kubernetes/render-job.ts'),
    import('yaml'),
  ]);
  let objects;
  try {
    const read = readMasterSpec(specPath);
    const pods = podRequestOf(flags);
    const spec = pods !== undefined ? { ...read, pods } : read;
    const settings = kubeSettingsFromEnv(process.env);
    objects = renderJobObjects(spec, settings, {
      namespace: flags.namespace ?? settings.namespace ?? 'default',
      ...(flags.jobId !== undefined ? { jobId: flags.jobId } : {}),
      ...(flags.statusFile !== undefined ? { statusFile: flags.statusFile } : {}),
      ...(flags.masterUrl !== undefined ? { masterUrl: flags.masterUrl } : {}),
    });
  } catch (e) {
    if (!isTorpedoError(e)) throw e;
    process.stderr.write(`torpedo k8s render-job: error ${e.code}: ${e.message}\n`);
    return 2;
  }
  if (flags.output === 'json') process.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
  else process.stdout.write(objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'));
  return 0;
}
