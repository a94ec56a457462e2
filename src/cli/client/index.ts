import type { Command } from 'commander';
import { registerClusterCommand } from './cluster-command.ts';
import { registerDatasetsCommand } from './datasets-command.ts';
import { registerJobsCommands } from './jobs-commands.ts';
import { registerLoginCommands } from './login-command.ts';
import { registerPasswdCommand } from './passwd-command.ts';
import { registerSubmitCommand } from './submit-command.ts';
import { registerUsersCommand } from './users-command.ts';

/**
 * The commands that talk to a manager over its REST API (docs/rest-api.md): login, logout,
 * whoami, passwd, datasets, submit, jobs, status, cancel, delete, rerun, output, cluster, users. See
 * docs/cli-client.md.
 */
export function registerClientCommands(program: Command): void {
  registerLoginCommands(program);
  registerPasswdCommand(program);
  registerDatasetsCommand(program);
  registerSubmitCommand(program);
  registerJobsCommands(program);
  registerClusterCommand(program);
  registerUsersCommand(program);
}
