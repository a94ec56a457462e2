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
 * it ran, and the rate at each of `steps` points the bytes read in the `windowMs` before it, per
 * second: the same measure as the live series (throughputFromSamples), so that the two curves
 * agree where both exist. Works after the job ended, when no live samples exist.
 */
export function throughputFromTasks(job: Pick<Job, 'tasks'>, t0: number, windowMs = 1000, steps = 120): Point[] {
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
  const window = windowMs / 1000;
  const from = Math.min(...spans.map((s) => s.start));
  // The window's trailing edge passes the last byte a window after it was read: the curve ends at 0.
  const to = Math.max(...spans.map((s) => s.end)) + window;
  const points: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const x = from + ((to - from) * i) / steps;
    let bytes = 0;
    for (const s of spans) {
      const overlap = Math.min(x, s.end) - Math.max(x - window, s.start);
      if (overlap > 0) bytes += (s.bytes * overlap) / (s.end - s.start);
    }
    points.push({ x: round(x), y: round(bytes / window / MiB) });
  }
  return points;
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
    // Bytes read can fall (a failed attempt's progress is dropped): that is not a negative rate.
    points.push({ x: round((s.t - t0) / 1000), y: Math.max(0, round((s.mapBytes - base.mapBytes) / MiB / (dt / 1000))) });
  }
  return points;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
