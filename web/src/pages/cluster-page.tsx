import { useState } from 'preact/hooks';
import { api, type ClusterView } from '../api.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { bytes, duration } from '../format.ts';
import { usePageTitle, usePoll } from '../hooks.ts';

const POLL_MS = 2000;

/** Admins: the running jobs' workers, what each runs, and its CPU time and memory from heartbeats. */
export function ClusterPage() {
  usePageTitle('Cluster');
  const [view, setView] = useState<ClusterView>();
  const [error, setError] = useState<unknown>();
  usePoll(() => void api.cluster().then(setView, setError), POLL_MS, []);
  return (
    <main>
      <h1>Cluster</h1>
      <ErrorMessage error={error} />
      {view === undefined && error === undefined && <p class="muted">Loading…</p>}
      {view !== undefined && (
        <>
          <p>
            {view.runningJobs} of at most {view.maxRunningJobs} jobs running ({view.maxRunningJobsPerUser} per user), {view.queuedJobs} queued.
          </p>
          {view.workers.length === 0 ? (
            <p class="muted">No workers: no job is running.</p>
          ) : (
            <table class="cards cluster">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Job</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Running</th>
                  <th scope="col">CPU time</th>
                  <th scope="col">Memory (RSS)</th>
                </tr>
              </thead>
              <tbody>
                {view.workers.flatMap((w) =>
                  (w.running.length > 0 ? w.running : [undefined]).map((a) => (
                    <tr key={`${w.job}/${w.worker}/${a?.id ?? ''}`} data-worker={w.worker}>
                      <td data-label="Worker" class="mono">
                        {w.worker}
                      </td>
                      <td data-label="Job">
                        <a href={`#/jobs/${encodeURIComponent(w.job)}`}>{w.jobName ?? w.job}</a>
                      </td>
                      <td data-label="Owner">{w.owner}</td>
                      <td data-label="Running" class="mono">
                        {a === undefined ? 'idle' : `${a.id}${a.backup ? ' (backup)' : ''}`}
                      </td>
                      <td data-label="CPU time">{a?.cpuMs !== undefined ? duration(a.cpuMs) : '–'}</td>
                      <td data-label="Memory (RSS)">{a?.rssBytes !== undefined ? bytes(a.rssBytes) : '–'}</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          )}
        </>
      )}
    </main>
  );
}
