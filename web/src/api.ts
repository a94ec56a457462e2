// A typed client of the manager's REST API (docs/rest-api.md). Every call carries the session's
// token; a 401 ends the session (session.ts), whatever page made the call.
import type { AttemptLog, ClusterView, Dataset, Job, JobSummary, LoginAnswer, Me, Role, SubmitRequest, UiSettings, User } from './api-types.ts';
import { deviceTokens } from './device-tokens.ts';
import { session } from './session.ts';

export * from './api-types.ts';

/** An `{error: {code, message}}` answer, or a network failure (code TORPEDO_UI_NETWORK). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message !== undefined) return new ApiError(res.status, body.error.code ?? `HTTP ${res.status}`, body.error.message);
  } catch {
    // Not JSON: a proxy's page, say. Show its first line.
  }
  return new ApiError(res.status, `HTTP ${res.status}`, text.split('\n')[0] || res.statusText);
}

/** fetch with the token; a 401 ends the session and throws. */
export async function send(method: string, path: string, o: { json?: unknown; body?: BodyInit; signal?: AbortSignal; anonymous?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = session.token();
  if (token !== undefined && o.anonymous !== true) headers['authorization'] = `Bearer ${token}`;
  let body = o.body;
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body } : {}), ...(o.signal !== undefined ? { signal: o.signal } : {}) });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'TORPEDO_UI_NETWORK', `the manager did not answer (${(e as Error).message}); is it running?`);
  }
  if (res.ok) return res;
  const error = await errorOf(res);
  if (res.status === 401 && o.anonymous !== true && token !== undefined) session.expire('Your session expired, sign in again.');
  throw error;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body !== undefined ? { json: body } : {});
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const q = (s: string): string => encodeURIComponent(s);
const ownerQuery = (owner: string | undefined): string => (owner !== undefined ? `?owner=${q(owner)}` : '');

export const api = {
  settings: async (): Promise<UiSettings> => (await send('GET', '/ui-settings.json', { anonymous: true })).json() as Promise<UiSettings>,
  login: async (username: string, password: string): Promise<LoginAnswer> => {
    const deviceToken = deviceTokens.get(username);
    const res = await send('POST', '/auth/login', { json: { username, password, ...(deviceToken !== undefined ? { deviceToken } : {}) }, anonymous: true });
    const answer = (await res.json()) as LoginAnswer;
    if (typeof answer.deviceToken === 'string') deviceTokens.keep(username, answer.deviceToken);
    return answer;
  },
  register: async (username: string, password: string): Promise<Me> => (await send('POST', '/auth/register', { json: { username, password }, anonymous: true })).json() as Promise<Me>,
  logout: (): Promise<void> => json('POST', '/auth/logout'),
  me: (): Promise<Me> => json('GET', '/auth/me'),

  users: async (): Promise<User[]> => (await json<{ users: User[] }>('GET', '/users')).users,
  createUser: (body: { username: string; password: string; roles: readonly Role[] }): Promise<User> => json('POST', '/users', body),
  updateUser: (name: string, body: { roles?: readonly Role[]; disabled?: boolean; password?: string }): Promise<User> => json('PATCH', `/users/${q(name)}`, body),
  deleteUser: (name: string): Promise<void> => json('DELETE', `/users/${q(name)}`),

  datasets: async (): Promise<Dataset[]> => (await json<{ datasets: Dataset[] }>('GET', '/datasets')).datasets,
  datasetPath: (name: string, owner?: string): string => `/datasets/${q(name)}${ownerQuery(owner)}`,
  deleteDataset: (name: string, owner?: string): Promise<void> => json('DELETE', `/datasets/${q(name)}${ownerQuery(owner)}`),

  /** Filters as GET /jobs takes them: `status` comma-separated, `owner` (admins), `name` (a part of it). */
  jobs: async (filter: { readonly status?: string; readonly owner?: string; readonly name?: string } = {}): Promise<JobSummary[]> => {
    const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return (await json<{ jobs: JobSummary[] }>('GET', `/jobs${query.size > 0 ? `?${query}` : ''}`)).jobs;
  },
  job: (id: string): Promise<Job> => json('GET', `/jobs/${q(id)}`),
  submit: (body: SubmitRequest): Promise<{ id: string }> => json('POST', '/jobs', body),
  cancel: (id: string): Promise<Job> => json('POST', `/jobs/${q(id)}/cancel`),
  /** Deletes a finished job with its output. */
  deleteJob: (id: string): Promise<{ id: string; deleted: true }> => json('DELETE', `/jobs/${q(id)}`),
  rerun: (id: string): Promise<{ id: string }> => json('POST', `/jobs/${q(id)}/rerun`),
  cluster: (): Promise<ClusterView> => json('GET', '/cluster'),
  logs: async (id: string): Promise<AttemptLog[]> => (await json<{ logs: AttemptLog[] }>('GET', `/jobs/${q(id)}/logs`)).logs,
  /** Attempt `attempt`'s log from byte `offset`: the text, where to ask from next, and the job's status (is more to come?). */
  attemptLog: async (id: string, attempt: string, offset = 0): Promise<{ text: string; next: number; jobStatus: string }> => {
    const res = await send('GET', `/jobs/${q(id)}/logs/${q(attempt)}?offset=${offset}`);
    const text = await res.text();
    return { text, next: Number(res.headers.get('x-torpedo-log-next') ?? offset), jobStatus: res.headers.get('x-torpedo-job-status') ?? '' };
  },
  outputPath: (id: string, part?: string): string => `/jobs/${q(id)}/output${part !== undefined ? `/${q(part)}` : ''}`,
  eventsUrl: (id: string): string => `/jobs/${q(id)}/events?token=${q(session.token() ?? '')}`,
};

export interface Head {
  readonly text: string;
  /** More bytes followed what was read. */
  readonly truncated: boolean;
}

/**
 * The first lines of a download, without reading the rest: reads chunks until `lines` newlines or
 * `maxBytes`, then aborts the request. (The API has no range or preview parameter.)
 */
export async function readHead(path: string, lines = 10, maxBytes = 16 * 1024): Promise<Head> {
  const abort = new AbortController();
  const res = await send('GET', path, { signal: abort.signal });
  const reader = res.body?.getReader();
  if (reader === undefined) return { text: '', truncated: false };
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += decoder.decode(value, { stream: true });
      if (text.split('\n').length > lines || text.length >= maxBytes) break;
    }
  } finally {
    if (!ended) abort.abort();
  }
  const all = text.split('\n');
  const kept = all.slice(0, lines).join('\n').slice(0, maxBytes);
  return { text: kept, truncated: !ended || kept.length < text.replace(/\n$/, '').length };
}

/** Saves a download under `filename`: fetched with the token (links cannot send one), then handed to the browser. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await send('GET', path);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export interface UploadProgress {
  readonly loaded: number;
  readonly total: number;
  /** Bytes per second over the last second or so. */
  readonly rate: number;
}

/** POST /datasets with the file's bytes, reporting progress (fetch cannot report upload progress; XHR can). */
export function uploadDataset(name: string, file: File, overwrite: boolean, onProgress: (p: UploadProgress) => void): { done: Promise<Dataset>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const samples: { t: number; loaded: number }[] = [{ t: performance.now(), loaded: 0 }];
  const done = new Promise<Dataset>((resolve, reject) => {
    xhr.open('POST', `/datasets?name=${q(name)}${overwrite ? '&overwrite=true' : ''}`);
    const token = session.token();
    if (token !== undefined) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      const t = performance.now();
      samples.push({ t, loaded: e.loaded });
      while (samples.length > 2 && t - samples[1]!.t > 1000) samples.shift();
      const first = samples[0]!;
      const rate = t > first.t ? ((e.loaded - first.loaded) * 1000) / (t - first.t) : 0;
      onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size, rate });
    };
    xhr.onload = () => {
      let body: { error?: { code?: string; message?: string } } & Partial<Dataset> = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // handled below
      }
      if (xhr.status === 201) return resolve(body as Dataset);
      if (xhr.status === 401) session.expire('Your session expired, sign in again.');
      reject(new ApiError(xhr.status, body.error?.code ?? `HTTP ${xhr.status}`, body.error?.message ?? (xhr.statusText || 'upload failed')));
    };
    xhr.onerror = () => reject(new ApiError(0, 'TORPEDO_UI_NETWORK', 'the upload was interrupted: the manager did not answer'));
    xhr.onabort = () => reject(new ApiError(0, 'TORPEDO_UI_ABORTED', 'upload cancelled'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
