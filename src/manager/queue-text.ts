// How a queued job's place reads, the same in the CLI and the web UI. No imports but types: the
// web UI imports this file too.
import type { QueuePlace } from './rest-types.ts';

const WHY: Readonly<Record<QueuePlace['reason'], string>> = {
  'running-jobs-cap': 'waits for a running job to end: every job slot of the manager is taken',
  'user-cap': 'waits for one of its owner’s running jobs to end: the owner runs as many as one user may',
  starting: 'starts in a moment',
};

/** E.g. "2nd in the queue; waits for one of its owner’s running jobs to end: …". */
export function queueText(place: QueuePlace): string {
  return `${ordinal(place.position)} in the queue; ${WHY[place.reason]}`;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
