import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, download, queueText, readHead, type Head, type Job } from '../api.ts';
import { can, useApp } from '../app-context.ts';
import { ThroughputChart } from '../charts/throughput-chart.tsx';
import { throughputFromSamples, throughputFromTasks, type Sample } from '../charts/throughput-data.ts';
import { TimelineChart } from '../charts/timeline-chart.tsx';
import { timelineOf } from '../charts/timeline-data.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TaskList } from '../components/task-list.tsx';
import { bytes, count, date, jobDuration, jobLabel } from '../format.ts';
import { useNow, usePageTitle } from '../hooks.ts';
import { ended, followJob } from '../live.ts';
import { navigate } from '../router.ts';
import { Preview } from './datasets-page.tsx';

/** While a job runs, its task table is fetched again at most this often (progress events do not carry tasks). */
const TASKS_REFRESH_MS = 1500;
/** Parts previewed at once; the rest on request. */
const AUTO_PREVIEW_PARTS = 8;

/** While a job is queued, its place in the queue is fetched again this often (events do not carry it). */
const QUEUE_REFRESH_MS = 2000;

/** One job: its place in the queue, live phases, the attempts timeline, throughput, counters, error, output; cancel, delete, run again. */
export function JobPage(props: { id: string }) {
  const { id } = props;
  usePageTitle(`Job ${id}`);
  const { me } = useApp();
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<unknown>();
  const [samples, setSamples] = useState<readonly Sample[]>([]);
  const [cancelling, setCancelling] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const lastFetch = useRef(0);

  useEffect(() => {
    setJob(undefined);
    setError(undefined);
    setSamples([]);
    let stop: (() => void) | undefined;
    let refresh: ReturnType<typeof setTimeout> | undefined;
    let gone = false;
    const fetchTasks = (): void => {
      if (refresh !== undefined) return;
      const wait = Math.max(0, lastFetch.current + TASKS_REFRESH_MS - Date.now());
      refresh = setTimeout(() => {
        refresh = undefined;
        lastFetch.current = Date.now();
        void api.job(id).then((j) => !gone && setJob((old) => (old !== undefined && ended(old.status) ? old : j)), () => {});
      }, wait);
    };
    api.job(id).then(
      (j) => {
        if (gone) return;
        setJob(j);
        if (ended(j.status)) return;
        stop = followJob(id, {
          job: (full) => setJob(full),
          progress: (p) => {
            setSamples((s) => [...s, { t: Date.now(), mapBytes: p.mapBytes }]);
            setJob((old) => (old === undefined || ended(old.status) ? old : { ...old, status: p.status, phase: p.status === 'running' ? p.phase : p.status, phases: p.phases, mapBytes: p.mapBytes, inputBytes: p.inputBytes }));
            fetchTasks();
          },
        });
      },
      (e: unknown) => !gone && setError(e),
    );
    return () => {
      gone = true;
      stop?.();
      if (refresh !== undefined) clearTimeout(refresh);
    };
  }, [id]);

  const running = job !== undefined && !ended(job.status);
  const now = useNow(1000, running);
  const queued = job?.status === 'queued';
  useEffect(() => {
    if (!queued) return;
    const t = setInterval(() => void api.job(id).then((j) => setJob((old) => (old?.status === 'queued' && j.status === 'queued' ? j : old)), () => {}), QUEUE_REFRESH_MS);
    return () => clearInterval(t);
  }, [id, queued]);

  if (error instanceof ApiError && error.status === 404) {
    return (
      <main>
        <h1>Job not found</h1>
        <p>
          There is no job <code>{id}</code> that you can see: it does not exist, or it belongs to someone else.
        </p>
        <p>
          <a href="#/jobs">Back to your jobs</a>
        </p>
      </main>
    );
  }
  if (job === undefined) {
    return (
      <main>
        <h1>Job {id}</h1>
        <ErrorMessage error={error} />
        {error === undefined && <p class="muted">Loading…</p>}
      </main>
    );
  }

  const cancel = async (): Promise<void> => {
    setCancelling(false);
    try {
      setJob(await api.cancel(id));
    } catch (e) {
      setActionError(e);
    }
  };

  const remove = async (): Promise<void> => {
    setDeleting(false);
    try {
      await api.deleteJob(id);
      navigate('/jobs');
    } catch (e) {
      setActionError(e);
    }
  };

  const rerun = async (): Promise<void> => {
    try {
      navigate(`/jobs/${encodeURIComponent((await api.rerun(id)).id)}`);
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <main class="job-page">
      <div class="title-row">
        <h1>
          {job.name ?? jobLabel(job.job)} <StatusBadge status={job.status} />
        </h1>
        <div class="actions">
          {can(me, 'submit_jobs') && (
            <button type="button" onClick={() => void rerun()}>
              Run again
            </button>
          )}
          {!running && can(me, 'submit_jobs') && (
            <button type="button" class="danger" onClick={() => setDeleting(true)}>
              Delete job
            </button>
          )}
          {job.status === 'succeeded' && (
            <button type="button" class="primary" onClick={() => void download(api.outputPath(id), `${id}.txt${/\.(gz|zst|bz2)$/.exec(job.outputParts?.[0] ?? '')?.[0] ?? ''}`).catch(setActionError)}>
              Download output
            </button>
          )}
          {running && can(me, 'submit_jobs') && (
            <button type="button" class="danger" onClick={() => setCancelling(true)}>
              Cancel job
            </button>
          )}
        </div>
      </div>
      <ErrorMessage error={actionError} />
      {job.status === 'queued' && job.queue !== undefined && (
        <p class="queue-place" role="status">
          Waiting: {queueText(job.queue)}.
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>Id</dt>
          <dd class="mono">{job.id}</dd>
        </div>
        {job.name !== null && (
          <div>
            <dt>Job</dt>
            <dd>{jobLabel(job.job)}</dd>
          </div>
        )}
        <div>
          <dt>Owner</dt>
          <dd>{job.owner}</dd>
        </div>
        <div>
          <dt>Inputs</dt>
          <dd>{job.inputs.join(', ')}</dd>
        </div>
        <div>
          <dt>Reducers · workers</dt>
          <dd>
            {job.reducers} · {job.workers}
          </dd>
        </div>
        {(job.outputFormat !== 'text' || job.outputCompression !== 'none') && (
          <div>
            <dt>Output</dt>
            <dd>
              {job.outputFormat} · {job.outputCompression}
            </dd>
          </div>
        )}
        {(job.splitSize !== null || job.maps !== null) && (
          <div>
            <dt>Split</dt>
            <dd>{job.maps !== null ? `${job.maps} maps` : bytes(job.splitSize ?? 0)}</dd>
          </div>
        )}
        {job.streaming !== undefined && (
          <div class="wide">
            <dt>Commands</dt>
            <dd class="mono">
              map: {job.streaming.mapper}
              {job.streaming.combiner !== undefined && (
                <>
                  <br />
                  combine: {job.streaming.combiner}
                </>
              )}
              <br />
              reduce: {job.streaming.reducer}
              {job.streaming.files.length > 0 && (
                <>
                  <br />
                  files: {job.streaming.files.join(', ')}
                </>
              )}
            </dd>
          </div>
        )}
        {Object.keys(job.params).length > 0 && (
          <div>
            <dt>Parameters</dt>
            <dd class="mono">
              {Object.entries(job.params)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}
            </dd>
          </div>
        )}
        <div>
          <dt>Submitted</dt>
          <dd>{date(job.createdAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{jobDuration(job, now)}</dd>
        </div>
      </dl>

      <section aria-labelledby="phases-title">
        <h2 id="phases-title">Progress</h2>
        <Phases job={job} />
      </section>

      {job.error !== undefined && (
        <section aria-labelledby="error-title" class="job-error">
          <h2 id="error-title">{job.status === 'cancelled' ? 'Cancelled' : 'Error'}</h2>
          <p>
            {job.error.message} <small class="code">{job.error.code}</small>
          </p>
          {job.error.file !== undefined && (
            <p>
              In <code title={job.error.file}>{job.error.file.split('/').pop()}</code>
              {job.error.offset !== undefined && <> at input offset {count(job.error.offset)}</>}
            </p>
          )}
          {job.error.stack !== undefined && (
            <pre class="stack" tabIndex={0} aria-label="Stack trace">
              {job.error.stack}
            </pre>
          )}
        </section>
      )}

      {job.events !== undefined && job.events.length > 0 && (
        <section aria-labelledby="events-title" class="job-events">
          <h2 id="events-title">Events</h2>
          <ul>
            {job.events.map((e) => (
              <li key={e.at + e.message}>
                <time dateTime={e.at}>{new Date(e.at).toLocaleTimeString()}</time> {e.message}
              </li>
            ))}
          </ul>
        </section>
      )}

      {job.status === 'succeeded' && <Output job={job} />}

      <Charts job={job} samples={samples} now={now} />

      <TaskList job={job} />

      <section aria-labelledby="counters-title">
        <h2 id="counters-title">Counts</h2>
        <div class="counter-tables">
          <Counters title="Counted by torpedo" counters={job.counters} />
          {Object.keys(job.userCounters).length > 0 && <Counters title="Counted by your job" counters={job.userCounters} />}
        </div>
      </section>

      <ConfirmDialog open={deleting} title="Delete this job?" confirm="Delete job" onConfirm={() => void remove()} onClose={() => setDeleting(false)}>
        <p>The job and its output are removed for good.</p>
      </ConfirmDialog>
      <ConfirmDialog open={cancelling} title="Cancel this job?" confirm="Cancel job" onConfirm={() => void cancel()} onClose={() => setCancelling(false)}>
        <p>Its workers are stopped and its output is discarded.</p>
      </ConfirmDialog>
    </main>
  );
}

/** split → map → shuffle → reduce. The API reports setup, map and reduce tasks; the rest is read from them. */
function Phases(props: { job: Job }) {
  const { job } = props;
  const { setup, map, reduce } = job.phases;
  const failed = job.status === 'failed' || job.status === 'cancelled';
  const tone = (done: boolean): 'done' | 'failed' | 'idle' | undefined => (done ? 'done' : failed ? 'failed' : job.status === 'queued' ? 'idle' : undefined);
  const reduceTasks = job.tasks.filter((t) => t.kind === 'reduce');
  const fetching = reduceTasks.filter((t) => t.attempts.length > 0 || t.state === 'done').length;
  const reduceTotal = reduce.total || job.reducers;
  const shuffleDone = reduce.total > 0 && (fetching >= reduce.total || reduce.done >= reduce.total);
  const splitDone = map.total > 0 && setup.done >= setup.total;
  const shuffled = job.counters['reduce shuffle bytes'];
  const rows = [
    {
      name: 'Split',
      done: splitDone ? 1 : setup.total > 0 ? setup.done / (setup.total + 1) : 0,
      total: 1,
      text: map.total > 0 ? `${map.total} splits${setup.total > 0 ? `, setup ${setup.done}/${setup.total}` : ''}` : setup.total > 0 ? `setup ${setup.done}/${setup.total}` : 'planning',
      finished: splitDone,
    },
    { name: 'Map', done: job.mapBytes, total: job.inputBytes || 1, text: `${map.done}/${map.total} tasks · ${bytes(job.mapBytes)} of ${bytes(job.inputBytes)}`, finished: map.total > 0 && map.done >= map.total },
    { name: 'Shuffle', done: shuffleDone ? reduceTotal : fetching, total: reduceTotal, text: `${shuffleDone ? `${reduceTotal}/${reduceTotal} reducers fetched` : `${fetching}/${reduceTotal} reducers fetching`}${shuffled !== undefined ? ` · ${bytes(shuffled)}` : ''}`, finished: shuffleDone },
    { name: 'Reduce', done: reduce.done, total: reduceTotal, text: `${reduce.done}/${reduceTotal} tasks`, finished: reduce.total > 0 && reduce.done >= reduce.total },
  ];
  return (
    <>
      <ol class="phases">
        {rows.map((r) => (
          <li key={r.name}>
            <span class="phase-name">{r.name}</span>
            <ProgressBar label={`${r.name} phase`} done={r.done} total={r.total} text={r.text} tone={tone(r.finished)} />
          </li>
        ))}
      </ol>
      {job.phase === 'commit' && <p class="muted">Committing the output…</p>}
      {job.status === 'queued' && <p class="muted">Waiting for a free slot: the manager runs a limited number of jobs at once.</p>}
    </>
  );
}

function Charts(props: { job: Job; samples: readonly Sample[]; now: number }) {
  const { job, samples, now } = props;
  const timeline = useMemo(() => timelineOf(job, now), [job.tasks, job.startedAt, job.status, job.finishedAt, ended(job.status) ? 0 : now]);
  const fromTasks = useMemo(() => throughputFromTasks(job, timeline.t0), [job.tasks, timeline.t0]);
  // A lone live point (a job that ended within a sample or two) says nothing: show the series from two points on.
  const live = useMemo(() => {
    const points = throughputFromSamples(samples, timeline.t0);
    return points.length >= 2 ? points : [];
  }, [samples, timeline.t0]);
  // One time axis for both charts, so that they line up.
  const xMax = Math.max(0, ...timeline.bars.map((b) => b.end), ...live.map((p) => p.x));
  if (timeline.bars.length === 0) {
    return job.status === 'queued' || job.status === 'running' ? <p class="muted">The timeline and throughput charts appear once tasks start.</p> : null;
  }
  return (
    <>
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">When each task ran, on which worker</h2>
        <TimelineChart timeline={timeline} xMax={xMax} jobId={job.id} />
      </section>
      <section aria-labelledby="throughput-title">
        <h2 id="throughput-title">Input read per second</h2>
        {fromTasks.length === 0 && live.length === 0 ? <p class="muted">No map task has finished yet.</p> : <ThroughputChart fromTasks={fromTasks} live={live} xMax={xMax} />}
      </section>
    </>
  );
}

function Counters(props: { title: string; counters: Readonly<Record<string, number>> }) {
  const entries = Object.entries(props.counters).sort(([a], [b]) => a.localeCompare(b));
  return (
    <table class="counters">
      <caption>{props.title}</caption>
      <tbody>
        {entries.length === 0 && (
          <tr>
            <td class="muted">none yet</td>
          </tr>
        )}
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td class="num">{k.endsWith('bytes') ? `${bytes(v)}` : count(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Output(props: { job: Job }) {
  const { job } = props;
  const parts = job.outputParts ?? [];
  const [heads, setHeads] = useState<Record<string, Head | Error>>({});
  const [error, setError] = useState<unknown>();
  const load = (part: string): void =>
    void readHead(`${api.outputPath(job.id, part)}?decompress=true`, 10).then(
      (h) => setHeads((x) => ({ ...x, [part]: h })),
      (e: unknown) => setHeads((x) => ({ ...x, [part]: e as Error })),
    );
  useEffect(() => parts.slice(0, AUTO_PREVIEW_PARTS).forEach(load), [job.id, parts.length]);
  return (
    <section aria-labelledby="output-title">
      <h2 id="output-title">Output</h2>
      <p>
        {parts.length} part file{parts.length === 1 ? '' : 's'}; the first lines of each:
      </p>
      <ErrorMessage error={error} />
      <div class="parts">
        {parts.map((part) => {
          const h = heads[part];
          return (
            <div class="part" key={part}>
              <div class="part-head">
                <span class="mono">{part}</span>
                <button type="button" onClick={() => void download(api.outputPath(job.id, part), `${job.id}-${part}`).catch(setError)} aria-label={`Download ${part}`}>
                  Download
                </button>
              </div>
              {h === undefined ? (
                <button type="button" onClick={() => load(part)}>
                  Preview {part}
                </button>
              ) : h instanceof Error ? (
                <ErrorMessage error={h} />
              ) : (
                <Preview head={h} label={`First lines of ${part}`} />
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}
