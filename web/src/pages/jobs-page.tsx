import { useEffect, useRef, useState } from 'preact/hooks';
import { api, queueText, type JobSummary } from '../api.ts';
import { can, useApp } from '../app-context.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { date, jobDuration, jobLabel } from '../format.ts';
import { useNow, usePageTitle, usePoll } from '../hooks.ts';
import { ended, followJob, withProgress } from '../live.ts';

/** At most this many running jobs are followed through their own event stream; the list is polled anyway. */
const MAX_STREAMS = 8;
const POLL_MS = 5000;

/** The jobs, newest first, kept up to date: running ones through their event streams, new ones by polling. */
export function JobsPage() {
  usePageTitle('Jobs');
  const { me } = useApp();
  const [jobs, setJobs] = useState<JobSummary[]>();
  const [error, setError] = useState<unknown>();
  const [filter, setFilter] = useState<Filter>({ status: '', owner: '', name: '' });
  const streams = useRef(new Map<string, () => void>());
  const reload = (): void => void api.jobs(filter).then(setJobs, setError);
  usePoll(reload, POLL_MS, [filter.status, filter.owner, filter.name]);
  const filtered = filter.status !== '' || filter.owner !== '' || filter.name !== '';

  // One stream per running job on the page; closed when it ends or leaves the list.
  useEffect(() => {
    const open = streams.current;
    const live = new Set((jobs ?? []).filter((j) => !ended(j.status)).slice(0, MAX_STREAMS).map((j) => j.id));
    for (const [id, stop] of open) {
      if (!live.has(id)) {
        stop();
        open.delete(id);
      }
    }
    for (const id of live) {
      if (open.has(id)) continue;
      open.set(
        id,
        followJob(id, {
          job: (full) => {
            setJobs((js) => js?.map((j) => (j.id === id ? { ...j, ...summaryOf(full) } : j)));
          },
          progress: (p) => setJobs((js) => js?.map((j) => (j.id === id ? withProgress(j, p) : j))),
        }),
      );
    }
  }, [jobs]);
  useEffect(() => () => streams.current.forEach((stop) => stop()), []);

  const running = jobs?.some((j) => !ended(j.status)) ?? false;
  const now = useNow(1000, running);
  const showOwner = can(me, 'admin') || (jobs?.some((j) => j.owner !== me?.username) ?? false);

  return (
    <main>
      <div class="title-row">
        <h1>Jobs</h1>
        {can(me, 'submit_jobs') && (
          <a class="button primary" href="#/submit">
            Submit a job
          </a>
        )}
      </div>
      <Filters filter={filter} onChange={setFilter} owners={can(me, 'admin')} />
      <ErrorMessage error={error} />
      {jobs === undefined && error === undefined && <p class="muted">Loading…</p>}
      {jobs?.length === 0 && filtered && <p class="muted">No jobs match.</p>}
      {jobs?.length === 0 && !filtered && <p class="muted">No jobs yet.{can(me, 'submit_jobs') ? ' Submit one to see it here.' : ''}</p>}
      {jobs !== undefined && jobs.length > 0 && (
        <table class="jobs cards">
          <thead>
            <tr>
              <th scope="col">Job</th>
              {showOwner && <th scope="col">Owner</th>}
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Duration</th>
              <th scope="col">Submitted</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-job={j.id}>
                <td data-label="Job">
                  <div>
                    <a href={`#/jobs/${encodeURIComponent(j.id)}`}>{j.name ?? jobLabel(j.job)}</a>
                    <div class="muted small mono">
                      {j.name !== null ? `${jobLabel(j.job)} · ` : ''}
                      {j.id}
                    </div>
                  </div>
                </td>
                {showOwner && <td data-label="Owner">{j.owner}</td>}
                <td data-label="Status">
                  <div>
                    <StatusBadge status={j.status} />
                    {j.status === 'queued' && j.queue !== undefined && (
                      <div class="muted small queue-place" title={queueText(j.queue)}>
                        #{j.queue.position} in the queue
                      </div>
                    )}
                  </div>
                </td>
                <td data-label="Progress" class="progress-cell">
                  <ProgressBar
                    label={`Progress of ${j.id}`}
                    done={j.status === 'succeeded' ? 1 : j.progress.done}
                    total={j.status === 'succeeded' ? 1 : j.progress.total}
                    tone={j.status === 'failed' ? 'failed' : j.status === 'cancelled' || j.status === 'queued' ? 'idle' : undefined}
                    text={j.status === 'running' ? `${j.phase} ${j.progress.done}/${j.progress.total}` : j.status === 'succeeded' ? 'done' : j.phase}
                  />
                </td>
                <td data-label="Duration">{jobDuration(j, now)}</td>
                <td data-label="Submitted">{date(j.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function summaryOf(j: JobSummary): JobSummary {
  return {
    id: j.id,
    name: j.name,
    owner: j.owner,
    job: j.job,
    status: j.status,
    phase: j.phase,
    progress: j.progress,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    ...(j.queue !== undefined ? { queue: j.queue } : {}),
  };
}

const STATUS_FILTERS = [
  ['', 'All'],
  ['queued', 'Queued'],
  ['running', 'Running'],
  ['succeeded', 'Succeeded'],
  ['failed,cancelled', 'Failed or cancelled'],
] as const;

/** The list's filters, as GET /jobs takes them. */
interface Filter {
  readonly status: string;
  readonly owner: string;
  readonly name: string;
}

function Filters(props: { filter: Filter; onChange: (f: Filter) => void; owners: boolean }) {
  const { filter, onChange } = props;
  return (
    <form class="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
      <div class="field">
        <label for="filter-name">Name</label>
        <input id="filter-name" type="search" value={filter.name} onInput={(e) => onChange({ ...filter, name: e.currentTarget.value })} placeholder="part of a name" />
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" value={filter.status} onChange={(e) => onChange({ ...filter, status: e.currentTarget.value })}>
          {STATUS_FILTERS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {props.owners && (
        <div class="field">
          <label for="filter-owner">Owner</label>
          <input id="filter-owner" type="search" value={filter.owner} onInput={(e) => onChange({ ...filter, owner: e.currentTarget.value })} placeholder="username" />
        </div>
      )}
    </form>
  );
}
