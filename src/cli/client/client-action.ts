import { InvalidArgumentError, type Command } from 'commander';
import { isTorpedoError } from '../../errors.ts';
import { ApiError, ManagerUnreachableError } from './api-client.ts';
import { serverUrl } from './session.ts';

/** Flags every command that talks to the manager has. */
export interface ServerFlags {
  readonly server?: string;
}

export interface JsonFlags extends ServerFlags {
  readonly json: boolean;
}

/** Adds `--server URL` (and, for commands that print data, `--json`). */
export function serverOptions(command: Command, o: { json: boolean }): Command {
  command.option('--server <url>', 'manager URL (default: the one saved at login, else $TORPEDO_SERVER, else http://127.0.0.1:7777)', parseServer);
  if (o.json) command.option('--json', 'print the raw JSON answer of the manager', false);
  return command;
}

function parseServer(text: string): string {
  try {
    return serverUrl(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/**
 * Wraps a command's action so that every failure the user can act on becomes one line on stderr
 * and exit status 1 — `torpedo: CODE: message`, plus a hint for 401 and 429 — instead of a stack
 * trace. Anything else is a bug and keeps its stack (bin/torpedo prints it, exit 70).
 */
export function clientAction<A extends unknown[]>(run: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await run(...args)) ?? 0;
    } catch (e) {
      process.exitCode = report(e);
    }
  };
}

/** Prints an error the user can act on and returns the exit status; rethrows anything else. */
export function report(e: unknown): number {
  const say = (line: string): void => void process.stderr.write(`torpedo: ${line}\n`);
  if (e instanceof ApiError) {
    say(`${e.code}: ${inCommandTerms(e.message)}`);
    if (e.status === 401) say(`hint: run \`torpedo login --server ${e.server}\` to get a new token`);
    if (e.status === 429 && e.retryAfter !== undefined) say(`hint: try again in ${e.retryAfter} s`);
    return 1;
  }
  if (e instanceof ManagerUnreachableError) {
    say(e.message);
    return 1;
  }
  if (isTorpedoError(e)) {
    say(`${e.code}: ${e.message}`);
    return 1;
  }
  throw e;
}

/**
 * The manager's messages speak to REST callers ("pass overwrite=true"); a command's user needs its
 * flag or another command instead. Each rewrite is a phrase the manager says, checked by
 * test/cli-conventions.test.ts so that a rewording there does not pass unnoticed. Called by
 * `report` for every error the manager answers.
 */
const IN_COMMAND_TERMS: readonly (readonly [string, string])[] = [
  ['; pass overwrite=true to replace it', '; use --overwrite to replace it'],
  [' (GET /datasets lists yours)', ' (`torpedo datasets ls` lists yours)'],
  // 401: `report` adds the hint to run `torpedo login`.
  ['this request needs a token: Authorization: Bearer <token> (POST /auth/login)', 'this needs you to be logged in'],
];

/** `message` with the manager's REST advice replaced by the command line's. */
export function inCommandTerms(message: string): string {
  return IN_COMMAND_TERMS.reduce((m, [rest, command]) => m.replace(rest, command), message);
}

/** Prints JSON as the manager sent it (one line), for `--json`. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
