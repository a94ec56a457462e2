import type { Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import { ApiClient, ApiError } from './api-client.ts';
import type { LoginAnswer, Me } from './api-types.ts';
import { clientAction, printJson, serverOptions, type JsonFlags, type ServerFlags } from './client-action.ts';
import { credentialsFile, deleteCredentials, loadCredentials, loadDeviceToken, saveCredentials, saveDeviceToken } from './credentials.ts';
import { askHidden, askLine, canPrompt } from './prompt.ts';
import { chooseServer, openClient, serverUrl } from './session.ts';

interface LoginFlags extends ServerFlags {
  readonly username?: string;
  readonly password?: string;
}

/** `torpedo login`, `logout`, `whoami`: get, drop and show the token the other commands send. */
export function registerLoginCommands(program: Command): void {
  serverOptions(
    program
      .command('login')
      .description('log in to a manager and save the token (asks on a terminal; else --username and --password or $TORPEDO_PASSWORD)')
      .option('--username <name>', 'user name (asked on a terminal if not given)')
      .option('--password <password>', 'password (default $TORPEDO_PASSWORD; asked without echo on a terminal). Visible to other local users in the process list: prefer the prompt or the variable'),
    { json: false },
  ).action(clientAction(login));

  serverOptions(program.command('logout').description('revoke the saved token at the manager and delete it'), { json: false }).action(clientAction(logout));

  serverOptions(program.command('whoami').description('show the user and roles of the saved token'), { json: true }).action(
    clientAction(async (flags: JsonFlags) => {
      const client = openClient(flags.server);
      const me = await client.json<Me>('GET', '/auth/me');
      if (flags.json) printJson(me);
      else process.stdout.write(`${me.username} at ${client.server} (roles: ${me.roles.join(', ') || 'none'})\n`);
    }),
  );
}

async function login(flags: LoginFlags): Promise<void> {
  const server = chooseServer(flags.server, loadCredentials());
  const username = flags.username ?? (canPrompt() ? await askLine(`username at ${server}: `) : undefined);
  if (!username) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no user name: pass --username (there is no terminal to ask on)');
  const password = flags.password ?? (process.env['TORPEDO_PASSWORD'] || undefined) ?? (canPrompt() ? await askHidden('password: ') : undefined);
  if (!password) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'no password: pass --password or set TORPEDO_PASSWORD (there is no terminal to ask on)');
  let answer: LoginAnswer;
  try {
    // A device token from an earlier login here keeps this login apart from guesses elsewhere.
    const deviceToken = loadDeviceToken(server, username);
    answer = await new ApiClient(server, undefined).json<LoginAnswer>('POST', '/auth/login', { json: { username, password, ...(deviceToken !== undefined ? { deviceToken } : {}) } });
  } catch (e) {
    // Reported without the usual 401 hint, which would say to run the command that just failed.
    if (e instanceof ApiError && e.status === 401) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', e.message);
    throw e;
  }
  const file = saveCredentials({ server, username, token: answer.token, expiresAt: answer.expiresAt });
  // A manager older than device tokens answers none.
  if (typeof answer.deviceToken === 'string') saveDeviceToken(server, username, answer.deviceToken);
  process.stdout.write(`logged in to ${server} as ${username}; the token (saved in ${file}) expires at ${answer.expiresAt}\n`);
}

/**
 * Revokes the token first and forgets it only then: if the manager cannot be reached the token
 * would stay valid until it expires, so the file is kept for another try. A 401 means the token
 * is already dead (expired, revoked), so there is nothing left to revoke.
 */
async function logout(flags: ServerFlags): Promise<void> {
  const saved = loadCredentials();
  if (saved === undefined) {
    process.stdout.write(`not logged in (no ${credentialsFile()})\n`);
    return;
  }
  // The token goes only to the manager that issued it.
  if (flags.server !== undefined && flags.server !== serverUrl(saved.server)) {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `you are logged in to ${saved.server}, not ${flags.server}`);
  }
  try {
    await new ApiClient(serverUrl(saved.server), saved.token).request('POST', '/auth/logout');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
  }
  deleteCredentials();
  process.stdout.write(`logged out of ${saved.server}\n`);
}
