import type { Job } from '../api.ts';
import { attemptLogPath } from '../router.ts';

/** Tasks listed open at once; a job with more shows them folded. */
const OPEN_UP_TO = 30;

/**
 * A job's tasks with their attempts, each attempt a link to its log (the attempt-log page). Tasks
 * reused from an earlier run (`--resume`) have no attempts of this run.
 */
export function TaskList(props: { job: Job }) {
  const { job } = props;
  const tasks = job.tasks.filter((t) => t.attempts.length > 0);
  if (tasks.length === 0) return null;
  const name = (t: Job['tasks'][number]): string => `${t.kind}-${String(t.index).padStart(5, '0')}`;
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks and their logs</h2>
      <details open={tasks.length <= OPEN_UP_TO}>
        <summary>
          {tasks.length} task{tasks.length === 1 ? '' : 's'} with attempts; open an attempt to read its log
        </summary>
        <table class="tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={name(t)}>
                <th scope="row" class="mono">
                  {name(t)}
                </th>
                <td>{t.state}</td>
                <td class="attempt-links">
                  {t.attempts.map((a) => (
                    <a key={a.id} href={`#${attemptLogPath(job.id, a.id)}`} title={a.error ?? `${a.state} on ${a.worker}`} aria-label={`Log of ${a.id} (${a.state})`}>
                      {a.id.slice(name(t).length + 1)} {a.state}
                      {a.backup ? ' (backup)' : ''}
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
