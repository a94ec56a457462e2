import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type AttemptLog } from '../api.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { bytes } from '../format.ts';
import { usePageTitle } from '../hooks.ts';
import { attemptLogPath } from '../router.ts';

/** Whether a job of this status may still write logs. */
const stillRunning = (status: string): boolean => status === 'queued' || status === 'running';

/** How often a running job's log is asked for more. */
const FOLLOW_MS = 1000;

/**
 * One attempt's log (GET /jobs/:id/logs/:attempt): what the job's code wrote to stdout and stderr
 * during the attempt, and the worker's lines about it. While the job runs, what is added is
 * fetched every second (from the offset already read) and appended. Opened from the job page's
 * task list and from a bar of its timeline.
 */
export function AttemptLogPage(props: { id: string; attempt: string }) {
  const { id, attempt } = props;
  usePageTitle(`Log of ${attempt}`);
  const [text, setText] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [siblings, setSiblings] = useState<readonly AttemptLog[]>([]);

  useEffect(() => {
    setText(undefined);
    setError(undefined);
    let gone = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    const more = (): void => {
      api.attemptLog(id, attempt, offset).then(
        (slice) => {
          if (gone) return;
          offset = slice.next;
          setText((t) => (t ?? '') + slice.text);
          setStatus(slice.jobStatus);
          if (stillRunning(slice.jobStatus)) timer = setTimeout(more, FOLLOW_MS);
        },
        (e: unknown) => !gone && setError(e),
      );
    };
    more();
    api.logs(id).then(
      (logs) => !gone && setSiblings(logs),
      () => {},
    );
    return () => {
      gone = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [id, attempt]);

  const task = attempt.replace(/-a\d+$/, '');
  const others = siblings.filter((l) => l.task === task);
  return (
    <main class="attempt-log-page">
      <p>
        <a href={`#/jobs/${encodeURIComponent(id)}`}>← Job {id}</a>
      </p>
      <h1>
        Log of <span class="mono">{attempt}</span>
      </h1>
      <p class="muted">What the job's code wrote to stdout and stderr during this attempt, and the worker's lines about it{status !== undefined && stillRunning(status) ? '; the job is running, so more may come' : ''}.</p>
      {others.length > 1 && (
        <nav aria-label={`Attempts of ${task}`} class="attempt-links">
          Attempts of {task}:{' '}
          {others.map((l) => (
            <a key={l.attemptId} href={`#${attemptLogPath(id, l.attemptId)}`} aria-current={l.attemptId === attempt ? 'page' : undefined}>
              {l.attemptId} ({bytes(l.bytes)})
            </a>
          ))}
        </nav>
      )}
      {error instanceof ApiError && error.status === 404 ? (
        <p>This attempt has no log: it has not started yet, it belongs to a job you cannot see, or its logs were removed after the manager's retention time.</p>
      ) : (
        <ErrorMessage error={error} />
      )}
      {text !== undefined && (
        <pre class="attempt-log" tabIndex={0} aria-label={`Log of ${attempt}`}>
          {text === '' ? '(empty)' : text}
        </pre>
      )}
      {text === undefined && error === undefined && <p class="muted">Loading…</p>}
    </main>
  );
}
