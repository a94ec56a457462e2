import { InvalidArgumentError, type Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import type { User } from './api-types.ts';
import { clientAction, printJson, serverOptions, type JsonFlags } from './client-action.ts';
import { formatTime, table } from './format.ts';
import { askHidden, canPrompt } from './prompt.ts';
import { openClient } from './session.ts';

/** `torpedo users ls | add | set-roles | disable | enable`: accounts, for `manage_users` and admins. */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('manage accounts on the manager (role manage_users or admin)');

  serverOptions(users.command('ls').description('list users'), { json: true }).action(
    clientAction(async (flags: JsonFlags) => {
      const answer = await openClient(flags.server).json<{ users: User[] }>('GET', '/users');
      if (flags.json) return printJson(answer);
      const rows = answer.users.map((u) => [u.username, u.roles.join(','), u.disabled ? 'disabled' : 'active', formatTime(u.createdAt)]);
      process.stdout.write(table(['USERNAME', 'ROLES', 'STATE', 'CREATED'], rows));
    }),
  );

  serverOptions(
    users
      .command('add')
      .description('create a user')
      .argument('<name>', 'user name')
      .option('--password <password>', 'their password (asked twice without echo on a terminal)')
      .option('--roles <a,b,...>', 'roles (default: submit_jobs, track_jobs, read_storage, write_storage)', parseRoles),
    { json: true },
  ).action(
    clientAction(async (name: string, flags: JsonFlags & { readonly password?: string; readonly roles?: string[] }) => {
      const password = flags.password ?? (await newPassword(name));
      const user = await openClient(flags.server).json<User>('POST', '/users', {
        json: { username: name, password, ...(flags.roles !== undefined ? { roles: flags.roles } : {}) },
      });
      show(user, flags.json, 'created');
    }),
  );

  serverOptions(
    users.command('set-roles').description("replace a user's roles").argument('<name>', 'user name').argument('<roles>', 'comma-separated roles, e.g. submit_jobs,track_jobs', parseRoles),
    { json: true },
  ).action(clientAction(async (name: string, roles: string[], flags: JsonFlags) => show(await patch(flags, name, { roles }), flags.json, 'updated')));

  for (const [command, disabled, what] of [
    ['disable', true, 'disable a user: their tokens stop working and their jobs are cancelled'],
    ['enable', false, 'enable a disabled user again'],
  ] as const) {
    serverOptions(users.command(command).description(what).argument('<name>', 'user name'), { json: true }).action(
      clientAction(async (name: string, flags: JsonFlags) => show(await patch(flags, name, { disabled }), flags.json, `${command}d`)),
    );
  }
}

function patch(flags: JsonFlags, name: string, body: { roles?: string[]; disabled?: boolean }): Promise<User> {
  return openClient(flags.server).json<User>('PATCH', `/users/${encodeURIComponent(name)}`, { json: body });
}

function show(user: User, json: boolean, verb: string): void {
  if (json) printJson(user);
  else process.stdout.write(`${verb} ${user.username}: roles ${user.roles.join(',') || 'none'}${user.disabled ? ', disabled' : ''}\n`);
}

/** "a, b,c" → ["a","b","c"]; the manager checks that each one is a role. */
function parseRoles(text: string): string[] {
  const roles = text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (roles.length === 0) throw new InvalidArgumentError('give at least one role, e.g. submit_jobs,track_jobs');
  return roles;
}

async function newPassword(name: string): Promise<string> {
  if (!canPrompt()) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no password: pass --password (there is no terminal to ask on)');
  const first = await askHidden(`password for ${name}: `);
  if (first !== (await askHidden('again: '))) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'the two passwords differ');
  return first;
}
