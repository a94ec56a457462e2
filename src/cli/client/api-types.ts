// The shapes of the manager's answers (docs/rest-api.md) come from src/manager/rest-types.ts:
// types only, so the CLI bundle does not pull in the server.
import type { JobStatus } from '../../manager/rest-types.ts';

export type { ClusterView, Count as Progress, Dataset, Job, JobStatus, JobSummary, LoginAnswer, Me, Phases, ProgressEvent, User } from '../../manager/rest-types.ts';

export function hasEnded(status: JobStatus): boolean {
  return status !== 'queued' && status !== 'running';
}
