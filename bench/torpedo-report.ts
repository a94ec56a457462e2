/** The part of torpedo's `--json` report the bench reads. */
export interface TorpedoReport {
  readonly status: string;
  /** torpedo's own measure of the job, next to the bench's measure of the whole command. */
  readonly wallMs: number | undefined;
  /** The largest maxRssBytes over workers[], if any worker reported one. */
  readonly peakWorkerRssBytes: number | undefined;
  /** Tasks of every phase (setup, map, reduce). */
  readonly tasks: number | undefined;
}

/**
 * Finds torpedo's report: with --json it prints one JSON object at the end of stdout, so this
 * takes the last line that parses as a JSON object (anything printed before it is ignored).
 */
export function parseTorpedoReport(stdout: string): TorpedoReport | undefined {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isRecord(parsed)) return toReport(parsed);
  }
  return undefined;
}

function toReport(json: Readonly<Record<string, unknown>>): TorpedoReport {
  const workers = Array.isArray(json['workers']) ? (json['workers'] as unknown[]) : [];
  const rss = workers.flatMap((w) => (isRecord(w) && typeof w['maxRssBytes'] === 'number' ? [w['maxRssBytes']] : []));
  const phases = isRecord(json['phases']) ? Object.values(json['phases']) : [];
  const tasks = phases.flatMap((p) => (isRecord(p) && typeof p['tasks'] === 'number' ? [p['tasks']] : []));
  return {
    tasks: tasks.length > 0 ? tasks.reduce((a, b) => a + b, 0) : undefined,
    status: typeof json['status'] === 'string' ? json['status'] : 'unknown',
    wallMs: typeof json['wallMs'] === 'number' ? json['wallMs'] : undefined,
    peakWorkerRssBytes: rss.length > 0 ? Math.max(...rss) : undefined,
  };
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
