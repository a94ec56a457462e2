// The throughput chart's data: how fast the maps read their input, in MiB/s over time. Pure.
import type { Job } from '../api-types.ts';

export interface Point {
  /** Seconds since the job started. */
  readonly x: number;
  /** MiB/s (2^20 bytes per second), the unit sizes are shown in everywhere (docs/units.md). */
  readonly y: number;
}

export interface Sample {
  /** Epoch milliseconds. */
  readonly t: number;
  readonly mapBytes: number;
}

const MiB = 2 ** 20;

/**
 * From the finished map tasks: each committed attempt's input bytes spread evenly over the time
 * it ran, summed over `buckets` equal slices of the job's map time. Works after the job ended,
 * when no live samples exist.
 */
export function throughputFromTasks(job: Pick<Job, 'tasks'>, t0: number, buckets = 60): Point[] {
  const spans = job.tasks
    .filter((t) => t.kind === 'map' && t.bytes !== undefined && !t.reused)
    .flatMap((t) => {
      const a = t.attempts.find((x) => x.state === 'succeeded' && x.endedAt !== null);
      if (a === undefined) return [];
      const start = (Date.parse(a.startedAt) - t0) / 1000;
      const end = (Date.parse(a.endedAt ?? a.startedAt) - t0) / 1000;
      return [{ start, end: Math.max(end, start + 0.001), bytes: t.bytes ?? 0 }];
    });
  if (spans.length === 0) return [];
  const from = Math.min(...spans.map((s) => s.start));
  const to = Math.max(...spans.map((s) => s.end));
  const n = Math.max(1, Math.min(buckets, Math.ceil((to - from) / 0.05)));
  const width = (to - from) / n;
  const sums = new Array<number>(n).fill(0);
  for (const s of spans) {
    const perSecond = s.bytes / (s.end - s.start);
    for (let i = Math.max(0, Math.floor((s.start - from) / width)); i < n; i++) {
      const lo = from + i * width;
      const hi = lo + width;
      if (lo >= s.end) break;
      const overlap = Math.min(hi, s.end) - Math.max(lo, s.start);
      if (overlap > 0) sums[i]! += perSecond * overlap;
    }
  }
  const points = sums.map((b, i) => ({ x: round(from + (i + 0.5) * width), y: round(b / width / MiB) }));
  // Start and end at zero so that the area reads as "reading started / stopped here".
  return [{ x: round(from), y: 0 }, ...points, { x: round(to), y: 0 }];
}

/**
 * From live progress samples (mapBytes as the SSE progress events report it): the rate over the
 * last `windowMs` at each sample, so that a burst of events close together does not spike.
 */
export function throughputFromSamples(samples: readonly Sample[], t0: number, windowMs = 1000): Point[] {
  const points: Point[] = [];
  let j = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    while (j < i - 1 && s.t - samples[j + 1]!.t >= windowMs) j++;
    const base = samples[j]!;
    const dt = s.t - base.t;
    if (dt <= 0) continue;
    points.push({ x: round((s.t - t0) / 1000), y: round((s.mapBytes - base.mapBytes) / MiB / (dt / 1000)) });
  }
  return points;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
