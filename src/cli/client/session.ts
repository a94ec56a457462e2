import { TorpedoError } from '../../errors.ts';
import { ApiClient } from './api-client.ts';
import { loadCredentials, type Credentials } from './credentials.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:7777';

/** A manager URL in the one form credentials compare by: http(s), no trailing slash. */
export function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `${JSON.stringify(text)} is not a manager URL (example: http://127.0.0.1:7777)`);
  }
  if (url.search !== '' || url.hash !== '') throw new TorpedoError('TORPEDO_ERR_BAD_FLAG', `the manager URL ${JSON.stringify(text)} must not have a query or fragment`);
  return url.href.replace(/\/+$/, '');
}

/** The manager a command talks to: --server, else the one saved at login, else $TORPEDO_SERVER, else the default. */
export function chooseServer(flag: string | undefined, saved: Credentials | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return serverUrl(flag ?? saved?.server ?? (env['TORPEDO_SERVER'] || DEFAULT_SERVER));
}

/**
 * A client for the chosen manager, with the saved token only if it was issued by that same
 * manager: a token is never sent to another server just because --server named one.
 */
export function openClient(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const saved = loadCredentials(env);
  const server = chooseServer(flag, saved, env);
  return new ApiClient(server, saved !== undefined && serverUrl(saved.server) === server ? saved.token : undefined);
}
