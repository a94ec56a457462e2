import type { JobSummary } from '../master/job-summary.ts';
import { formatBytes, formatRate } from '../protocol/units.ts';

/** The human summary `torpedo run` prints at the end. */
export function formatSummary(s: JobSummary): string {
  const lines: string[] = [];
  const secs = (s.wallMs / 1000).toFixed(2);
  lines.push(`job ${s.jobId} (${s.job}) ${s.status} in ${secs} s — ${formatBytes(s.inputBytes)} in, ${formatRate(s.wallMs > 0 ? (s.inputBytes * 1000) / s.wallMs : 0)}`);
  lines.push(`output: ${s.output}`);
  lines.push('');
  lines.push('phase    tasks  attempts  failed  lost  killed  backup  reused');
  for (const [name, p] of Object.entries(s.phases)) {
    if (p.tasks === 0) continue;
    lines.push(
      `${name.padEnd(8)} ${pad(p.tasks, 5)}  ${pad(p.attempts, 8)}  ${pad(p.failedAttempts, 6)}  ${pad(p.lostAttempts, 4)}  ${pad(p.killedAttempts, 6)}  ${pad(p.backupAttempts, 6)}  ${pad(p.reusedTasks, 6)}`,
    );
  }
  const counters = Object.entries(s.counters);
  const user = Object.entries(s.userCounters);
  if (counters.length + user.length > 0) {
    lines.push('');
    lines.push('counters');
    for (const [k, v] of counters) lines.push(`  ${k.padEnd(24)} ${v}`);
    for (const [k, v] of user) lines.push(`  ${k.padEnd(24)} ${v}  (user)`);
  }
  if (s.workers.length > 0) {
    const peak = Math.max(...s.workers.map((w) => w.maxRssBytes));
    lines.push('');
    lines.push(`workers: ${s.workers.length}, peak RSS ${formatBytes(peak)}`);
  }
  return `${lines.join('\n')}\n`;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w);
}
