import { readFileSync } from 'node:fs';
import type { Job, MapContext, TaskContext } from '../src/api/job.ts';
import { listInputFiles } from '../src/input/input-files.ts';
import { sampleInput } from '../src/worker/setup-runner.ts';
import { withNamedOutputs } from '../src/shuffle/named-outputs.ts';
import { hashString } from '../src/shuffle/partition.ts';

/**
 * The sequential oracle: runs a job in the simplest possible way — whole files in memory, `map`
 * on every line, no combiner, one big sort by key bytes (Buffer.compare), `reduce` per key — and
 * returns the R part files' contents that the engine must produce byte for byte.
 */
export async function runOracle(
  job: Job,
  inputs: readonly string[],
  reducers: number,
  params: Record<string, string> = {},
): Promise<string[]> {
  const files = listInputFiles(inputs);
  const setup = job.setup
    ? JSON.parse(
        JSON.stringify(
          (await job.setup({
            params,
            reducers,
            files: files.map((f) => f.path),
            sample: (n) => sampleInput(files.filter((f) => f.size > 0).map((f) => ({ file: f.path, start: 0, end: f.size })), n),
          })) ?? null,
        ),
      )
    : undefined;
  const counters: Record<string, number> = {};
  const base = { attempt: 0, params, reducers, setup, files: {}, count: (k: string, n = 1) => void (counters[k] = (counters[k] ?? 0) + n) };
  const pairs: { key: string; bytes: Buffer; seq: number; value: unknown }[] = [];
  let seq = 0;
  for (const f of files) {
    const data = readFileSync(f.path);
    let offset = 0;
    while (offset < data.length) {
      let nl = data.indexOf(10, offset);
      if (nl === -1) nl = data.length;
      let line = data.toString('utf8', offset, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const ctx: MapContext = { ...base, taskId: 'oracle-map', file: f.path, offset };
      await job.map(line, withNamedOutputs((key, value) => void pairs.push({ key, bytes: Buffer.from(key), seq: seq++, value: roundTrip(value) }), () => {}), ctx);
      offset = nl + 1;
    }
  }
  pairs.sort((a, b) => Buffer.compare(a.bytes, b.bytes) || a.seq - b.seq);
  const parts: string[][] = Array.from({ length: reducers }, () => []);
  const ctx: TaskContext = { ...base, taskId: 'oracle-reduce' };
  const partitionOf = (key: string): number =>
    job.partition ? job.partition(key, reducers, ctx) : reducers === 1 ? 0 : hashString(key) % reducers;
  for (let i = 0; i < pairs.length; ) {
    const key = (pairs[i] as (typeof pairs)[number]).key;
    let j = i;
    while (j < pairs.length && (pairs[j] as (typeof pairs)[number]).key === key) j++;
    const values = pairs.slice(i, j).map((p) => p.value);
    const out = parts[partitionOf(key)] as string[];
    await job.reduce?.(key, values, withNamedOutputs((k, v) => void out.push(formatLine(k, v)), () => {}), ctx);
    i = j;
  }
  return parts.map((lines) => lines.join(''));
}

/** Values travel through the shuffle as JSON; so do the oracle's. */
function roundTrip(v: unknown): unknown {
  return v === undefined || v === null ? null : JSON.parse(JSON.stringify(v));
}

function formatLine(key: string, value: unknown): string {
  if (value === null || value === undefined) return `${key}\n`;
  return `${key}\t${typeof value === 'string' ? value : JSON.stringify(value)}\n`;
}
