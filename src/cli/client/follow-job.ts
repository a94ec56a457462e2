import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, ManagerUnreachableError, unreachable, type ApiClient } from './api-client.ts';
import { hasEnded, type Job, type ProgressEvent } from './api-types.ts';
import { readSse } from './sse.ts';

/** Consecutive failed connections before giving up: about half a minute of a manager restart. */
const MAX_RECONNECTS = 8;

/**
 * Follows GET /jobs/:id/events until the job has ended and returns the final job. Every event
 * (the full job included) goes to `onProgress` as a ProgressEvent; `onRetry` hears of each
 * reconnection before its pause.
 *
 * The stream can break without the job ending (the manager restarts, a proxy times out). Since
 * the first event of every connection is the whole job, reconnecting loses nothing, so this is
 * the one place the client retries; API errors (401, 404, and the `error` event that ends a stream
 * whose token was revoked) are not transient and are thrown.
 */
export async function followJob(
  client: ApiClient,
  id: string,
  onProgress: (p: ProgressEvent) => void,
  onRetry: (reason: string, delayMs: number) => void = () => {},
): Promise<Job> {
  let failures = 0;
  let lastError: ManagerUnreachableError | undefined;
  for (;;) {
    try {
      const res = await client.request('GET', `/jobs/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' } });
      if (res.body === null) throw new ManagerUnreachableError(client.server, 'the event stream has no body');
      for await (const e of readSse(res.body)) {
        failures = 0;
        if (e.event === 'job') {
          const job = JSON.parse(e.data) as Job;
          onProgress(job);
          if (hasEnded(job.status)) return job;
        } else if (e.event === 'progress') {
          onProgress(JSON.parse(e.data) as ProgressEvent);
        } else if (e.event === 'error') {
          // The manager ended the stream because the token no longer holds (logged out, expired…).
          const error = JSON.parse(e.data) as { code: string; message: string };
          throw new ApiError(client.server, error.code === 'TORPEDO_ERR_FORBIDDEN' ? 403 : 401, error.code, error.message);
        }
      }
      lastError = new ManagerUnreachableError(client.server, 'the event stream ended before the job did');
    } catch (e) {
      if (e instanceof ApiError) throw e;
      const broken = e instanceof ManagerUnreachableError ? e : unreachable(client.server, e);
      if (broken === undefined) throw e;
      lastError = broken;
    }
    if (++failures > MAX_RECONNECTS) throw lastError;
    const delay = Math.min(5000, 500 * failures);
    onRetry(lastError.message, delay);
    await sleep(delay);
  }
}
