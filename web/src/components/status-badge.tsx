import type { JobStatus } from '../api.ts';

export function StatusBadge(props: { status: JobStatus }) {
  return <span class={`badge status-${props.status}`}>{props.status}</span>;
}
