import { Command } from 'commander';
import { registerRunCommand } from './run-command.ts';
import { registerInternalCommands } from './internal-commands.ts';
import { registerManagerCommand } from './manager-command.ts';
import { registerMasterCommand } from './master-command.ts';
import { registerWorkerCommand } from './worker-command.ts';
import { registerClientCommands } from './client/index.ts';
import { registerK8sCommand } from './k8s-command.ts';
import { registerVerifyCommand } from './verify-command.ts';

/** The `torpedo` command: parses arguments and hands over to one subcommand. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('torpedo')
    .description('torpedo — MapReduce on one machine or a Kubernetes cluster')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`torpedo: ${text}`) });
  // Usage errors exit with 2, like other Unix tools; set before the subcommands inherit it.
  program.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  registerRunCommand(program);
  registerVerifyCommand(program);
  registerMasterCommand(program);
  registerWorkerCommand(program);
  registerInternalCommands(program);
  registerManagerCommand(program);
  registerClientCommands(program);
  registerK8sCommand(program);
  await program.parseAsync([...argv]);
}
