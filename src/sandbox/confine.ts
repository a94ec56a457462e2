import { TorpedoError } from '../errors.ts';
import { bubblewrapArgs } from './bubblewrap-args.ts';
import type { SandboxPolicy } from './sandbox-policy.ts';
import { sandboxSupport } from './sandbox-support.ts';
import { systemPaths } from './system-paths.ts';

/** A command ready for `spawn(file, args, { env, cwd })`. */
export interface ConfinedCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  /** Whether bubblewrap confines it (else only its environment is clean). */
  readonly confined: boolean;
}

/**
 * The one way user code is started: `argv` under `policy`, as far as this machine allows
 * (sandbox-support.ts). With bubblewrap, the process gets the policy's environment (through
 * bwrap's own, never on a command line) and none of the caller's; without it, the command runs as it is, with the policy's
 * environment only — callers that need a real boundary check `sandboxSupport().level` first
 * (the manager refuses to run other users' code without one).
 *
 * A policy with an identity of its own needs the `full` level; asking for one without it is an
 * error rather than a silent run as the caller.
 */
export function confine(policy: SandboxPolicy, argv: readonly string[]): ConfinedCommand {
  const support = sandboxSupport();
  if (support.level === 'none') {
    if (policy.identity !== 'caller') throw new TorpedoError('TORPEDO_ERR_SANDBOX', `this job needs a sandbox of its own, and ${support.reason}`);
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('confine: empty command');
    return { file, args, env: policy.env, cwd: policy.cwd, confined: false };
  }
  if (policy.identity !== 'caller' && support.level !== 'full') {
    throw new TorpedoError('TORPEDO_ERR_SANDBOX', `this job needs a uid of its own, and ${support.reason}`);
  }
  const args = bubblewrapArgs(policy, argv, { privileged: support.level === 'full', system: systemPaths(), hardLimits: support.hardLimits, tools: support.tools });
  // bwrap gets the policy's environment and nothing else, and passes it on: not as arguments,
  // which `ps` shows every user (the job's token is in it).
  return { file: support.tools.bwrap, args, env: policy.env, cwd: undefined, confined: true };
}
