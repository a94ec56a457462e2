import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Help, type Option } from 'commander';
import { ROOT } from '../paths.ts';
import { registerRunCommand } from './run-command.ts';
import { registerInternalCommands } from './internal-commands.ts';
import { registerManagerCommand } from './manager-command.ts';
import { registerMasterCommand } from './master-command.ts';
import { registerWorkerCommand } from './worker-command.ts';
import { registerClientCommands } from './client/index.ts';
import { registerK8sCommand } from './k8s-command.ts';
import { registerVerifyCommand } from './verify-command.ts';
import { registerLogsCommand } from './logs-command.ts';

/** The `torpedo` command: parses arguments and hands over to one subcommand. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('torpedo')
    .description('torpedo — MapReduce on one machine or a Kubernetes cluster')
    .version(packageVersion(), '-V, --version', "print torpedo's version")
    .configureHelp({ optionDescription })
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`torpedo: ${text}`) });
  // Usage errors exit with 2, like other Unix tools; set before the subcommands inherit it.
  program.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  registerRunCommand(program);
  registerVerifyCommand(program);
  registerLogsCommand(program);
  registerMasterCommand(program);
  registerWorkerCommand(program);
  registerInternalCommands(program);
  registerManagerCommand(program);
  registerClientCommands(program);
  registerK8sCommand(program);
  await program.parseAsync([...argv]);
}

/** The version in torpedo's package.json, for `torpedo --version`. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * An option's line in every command's help (subcommands inherit it): commander's, without the
 * defaults nobody types — `(default: false)` of a switch, `(default: {})` or `(default: [])` of a
 * repeatable flag. Sizes and other defaults are written by who declares them (setting-options.ts).
 */
function optionDescription(this: Help, option: Option): string {
  const v: unknown = option.defaultValue;
  const unspoken = v === false || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && Object.keys(v).length === 0);
  if (!unspoken) return Help.prototype.optionDescription.call(this, option);
  return Help.prototype.optionDescription.call(this, Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined }));
}
