import type { Command } from 'commander';
import { TorpedoError } from '../../errors.ts';
import { ApiError } from './api-client.ts';
import type { User } from './api-types.ts';
import { clientAction, serverOptions, type ServerFlags } from './client-action.ts';
import { loadCredentials, saveCredentials } from './credentials.ts';
import { askHidden, canPrompt, readStdinLines } from './prompt.ts';
import { openClient, serverUrl } from './session.ts';

interface PasswdFlags extends ServerFlags {
  readonly passwordStdin: boolean;
}

/**
 * `torpedo passwd [USER]`: change your own password (POST /auth/password, which revokes all your
 * tokens and answers a new one, saved in place of the old), or, with USER and the role
 * manage_users, set someone else's (PATCH /users/USER, which signs them out everywhere).
 */
export function registerPasswdCommand(program: Command): void {
  serverOptions(
    program
      .command('passwd')
      .description("change your password (asked without echo), or with USER set another user's (role manage_users)")
      .argument('[user]', "whose password to set (default: your own; the current one is then asked for)")
      .option('--password-stdin', 'for scripts: read the passwords from stdin, one a line: current then new for your own, the new one for USER', false),
    { json: false },
  ).action(clientAction(passwd));
}

async function passwd(user: string | undefined, flags: PasswdFlags): Promise<void> {
  const client = openClient(flags.server);
  const saved = loadCredentials();
  const own = user === undefined || (saved !== undefined && serverUrl(saved.server) === client.server && saved.username === user);
  if (own) {
    const [currentPassword, newPassword] = flags.passwordStdin ? await readStdinLines(2, 'the current and the new password') : await askOwn();
    const answer = await client.json<{ token: string; expiresAt: string }>('POST', '/auth/password', { json: { currentPassword, newPassword } }).catch((e: unknown) => {
      // Said without the usual 401 hint to log in again: the token is fine, the password is not.
      if (e instanceof ApiError && e.status === 401 && /current password/.test(e.message)) throw new TorpedoError('TORPEDO_ERR_UNAUTHENTICATED', `${e.message}; nothing was changed`);
      throw e;
    });
    // The old token was revoked with the change; the new one keeps this login working.
    if (saved !== undefined && serverUrl(saved.server) === client.server) saveCredentials({ ...saved, token: answer.token, expiresAt: answer.expiresAt });
    process.stdout.write(`password changed for ${saved?.username ?? 'you'}; your other sessions are signed out\n`);
    return;
  }
  const [password] = flags.passwordStdin ? await readStdinLines(1, `the new password for ${user}`) : [await askNew(user)];
  const changed = await client.json<User>('PATCH', `/users/${encodeURIComponent(user)}`, { json: { password } });
  process.stdout.write(`password set for ${changed.username}; they are signed out everywhere\n`);
}

function mustPrompt(): void {
  if (!canPrompt()) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'there is no terminal to ask for passwords on: pass --password-stdin and pipe them in');
}

async function askOwn(): Promise<[string, string]> {
  mustPrompt();
  const current = await askHidden('current password: ');
  return [current, await askNew()];
}

async function askNew(user?: string): Promise<string> {
  mustPrompt();
  const first = await askHidden(user === undefined ? 'new password: ' : `new password for ${user}: `);
  if (first !== (await askHidden('again: '))) throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', 'the two passwords differ; nothing was changed');
  return first;
}
