// Following a job through GET /jobs/:id/events (Server-Sent Events): the full job first and last,
// `progress` events between. The server closes the stream after the last event; EventSource would
// reconnect on its own, so the stream is closed here once the job has ended.
import { api, type Job, type JobStatus, type JobSummary, type ProgressEvent } from './api.ts';

export const ended = (s: JobStatus): boolean => s !== 'queued' && s !== 'running';

export interface JobEvents {
  job(job: Job): void;
  progress(p: ProgressEvent): void;
}

/** Subscribes to a job's events until it ends or the returned function is called. */
export function followJob(id: string, on: JobEvents): () => void {
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    source?.close();
    if (retry !== undefined) clearTimeout(retry);
  };
  const open = (): void => {
    if (stopped) return;
    const s = new EventSource(api.eventsUrl(id));
    source = s;
    s.addEventListener('job', (e) => {
      const job = JSON.parse((e as MessageEvent<string>).data) as Job;
      on.job(job);
      if (ended(job.status)) stop();
    });
    s.addEventListener('progress', (e) => on.progress(JSON.parse((e as MessageEvent<string>).data) as ProgressEvent));
    s.onerror = () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: the server refused (an expired token
      // answers 401: api.me() then ends the session) — try again a little later.
      if (s.readyState !== EventSource.CLOSED || stopped) return;
      void api.me().catch(() => {});
      retry = setTimeout(open, 3000);
    };
  };
  open();
  return stop;
}

/** A summary brought up to date by a progress event. */
export function withProgress<T extends JobSummary>(j: T, p: ProgressEvent): T {
  const phase = p.phase === 'setup' || p.phase === 'map' || p.phase === 'reduce' ? p.phase : 'reduce';
  return { ...j, status: p.status, phase: p.status === 'running' ? p.phase : p.status, progress: p.phases[phase] };
}
