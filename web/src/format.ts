// How numbers, sizes, times and durations read on every page.

/** Sizes and speeds as the CLI and the docs write them (KiB, MiB, GiB: src/protocol/units.ts). */
export { formatBytes as bytes, formatRate as rate } from '../../src/protocol/units.ts';

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 65_000 → "1 min 5 s"; under ten seconds with one decimal. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A date as local time, "2026-11-24 09:11". */
export function date(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** How long a job ran, or has been running until `now`. */
export function jobDuration(j: { readonly startedAt: string | null; readonly finishedAt: string | null }, now: number): string {
  if (j.startedAt === null) return '—';
  const end = j.finishedAt !== null ? Date.parse(j.finishedAt) : now;
  return duration(Math.max(0, end - Date.parse(j.startedAt)));
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.round((done * 100) / total)) : 0;
}

/** A job's name as lists show it: the example's name, "custom job" for submitted code and "streaming job" for commands (the API's `code` and `streaming`). */
export function jobLabel(job: string): string {
  return job === 'code' ? 'custom job' : job === 'streaming' ? 'streaming job' : job;
}
