import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { countLines, readSplit } from '../input/split-reader.ts';
import { splitPieces, type Split } from '../input/splits.ts';
import { MapOutput } from '../shuffle/map-output.ts';
import { OutputWriter, type PartEncoding } from '../shuffle/output-writer.ts';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { defaultPartition, defaultPartitionBytes } from '../shuffle/partition.ts';
import type { AttemptContext } from '../worker/task-context.ts';
import { writeSortedLines } from './shuffle-lines.ts';
import { StreamingProcess } from './streaming-process.ts';
import type { StreamingSpec } from './streaming-spec.ts';
import { taskEnvironment, type TaskIdentity } from './task-environment.ts';

export interface StreamingMapRun {
  readonly spec: StreamingSpec;
  readonly split: Split;
  readonly ctx: AttemptContext;
  readonly reducers: number;
  readonly memoryBytes: number;
  readonly maxRecordBytes: number;
  readonly attemptDir: string;
  readonly outputPath: string;
  readonly onProgress: (bytes: number) => void;
  /** A map-only job's part format and codec. */
  readonly encoding?: PartEncoding;
  /** The job and attempt, for the command's environment. */
  readonly task: Omit<TaskIdentity, 'kind' | 'split'>;
}

const TAB = 9;
const NL = 10;
const CHUNK_BYTES = 1 << 20;

/**
 * A streaming map attempt: the split's lines go to the mapper's stdin as they are read; each line
 * it writes is a pair, `key<TAB>value` (no tab: the whole line is the key, the value empty). The
 * pairs are partitioned and sorted like any job's; with a combiner, each partition's sorted pairs
 * then go through the combiner command once, and its lines are the task's output.
 */
export async function runStreamingMap(run: StreamingMapRun): Promise<{ counters: Record<string, number>; part?: PartChecksum }> {
  if (run.reducers === 0) return runStreamingMapOnly(run);
  const { spec, ctx } = run;
  const newOutput = (spillDir: string): MapOutput =>
    new MapOutput({
      reducers: run.reducers,
      partition: (key) => defaultPartition(key, run.reducers),
      partitionBytes: (b, s, e) => defaultPartitionBytes(b, s, e, run.reducers),
      combine: { kind: 'none' },
      budgetBytes: run.memoryBytes,
      spillDir,
    });
  let output = newOutput(run.attemptDir);
  let pairs = 0;
  const emitLine = (target: () => MapOutput) => (buf: Buffer, start: number, end: number): void => {
    // Look for the tab within the line only: indexOf would scan the rest of the chunk for a
    // line without one (every line of a mapper that writes bare keys).
    let keyEnd = start;
    while (keyEnd < end && buf[keyEnd] !== TAB) keyEnd++;
    const value = keyEnd === end ? '' : buf.toString('utf8', keyEnd + 1, end);
    target().emitBytes(buf, start, keyEnd, value);
    pairs++;
  };
  const count = (name: string, n: number): void => ctx.count(name, n);
  const env = taskEnvironment({ ...run.task, kind: 'map', split: run.split });
  const mapper = new StreamingProcess({ role: 'mapper', command: spec.mapper, spec, attemptDir: run.attemptDir, maxLineBytes: run.maxRecordBytes, onLine: emitLine(() => output), count, env });
  const { records, bytes } = await feedSplit(mapper, run);
  const mapOutputPairs = pairs;
  if (spec.combiner !== undefined) {
    const sorted = join(run.attemptDir, 'before-combine.run');
    output.finish(sorted);
    const combineDir = join(run.attemptDir, 'combine');
    output = newOutput(combineDir);
    pairs = 0;
    for (let p = 0; p < run.reducers; p++) {
      const combiner = new StreamingProcess({ role: 'combiner', command: spec.combiner, spec, attemptDir: run.attemptDir, maxLineBytes: run.maxRecordBytes, onLine: emitLine(() => output), count, env });
      try {
        await writeSortedLines([sorted], p, { memoryBytes: run.memoryBytes, mergeFactor: 2, scratchDir: run.attemptDir }, (batch) => combiner.write(batch));
        await combiner.finish();
      } catch (e) {
        combiner.kill();
        throw e;
      }
    }
    rmSync(sorted, { force: true });
  }
  output.finish(run.outputPath);
  return {
    counters: {
      'map input records': records,
      'map input bytes': bytes,
      'map output pairs': mapOutputPairs,
      ...(spec.combiner !== undefined ? { 'combine output pairs': pairs } : {}),
      'spilled runs': output.stats.spills,
    },
  };
}

/**
 * A streaming map attempt of a map-only job (R = 0): the mapper's lines are the task's part,
 * in the order it writes them (Hadoop Streaming with no reducers).
 */
async function runStreamingMapOnly(run: StreamingMapRun): Promise<{ counters: Record<string, number>; part: PartChecksum }> {
  const { spec, ctx } = run;
  const out = new OutputWriter(run.outputPath, run.encoding);
  const env = taskEnvironment({ ...run.task, kind: 'map', split: run.split });
  const count = (name: string, n: number): void => ctx.count(name, n);
  const mapper = new StreamingProcess({ role: 'mapper', command: spec.mapper, spec, attemptDir: run.attemptDir, maxLineBytes: run.maxRecordBytes, onLine: (buf, start, end) => out.writeLine(buf, start, end), count, env });
  const { records, bytes } = await feedSplit(mapper, run);
  out.close();
  return { part: out.checksum(), counters: { 'map input records': records, 'map input bytes': bytes, 'map output lines': out.lines } };
}

/**
 * Writes a split's lines to the mapper's stdin and waits for it to end. The pieces of a combined
 * split go to the one mapper in turn, each ending with a newline. A mapper that fails is killed.
 */
async function feedSplit(mapper: StreamingProcess, run: StreamingMapRun): Promise<{ records: number; bytes: number }> {
  let records = 0;
  let bytes = 0;
  try {
    let lastByte = NL;
    let before = 0; // bytes of the pieces read before this one
    for (const piece of splitPieces(run.split)) {
      let read = 0;
      for await (const chunk of readSplit(piece, Math.min(CHUNK_BYTES, run.maxRecordBytes), run.maxRecordBytes)) {
        // The reader reuses its buffer: the process gets a copy it may hold until it is written.
        await mapper.write(Buffer.from(chunk.buf.subarray(0, chunk.length)));
        records += countLines(chunk.buf, chunk.length);
        lastByte = chunk.buf[chunk.length - 1] ?? NL;
        bytes += chunk.length;
        read += chunk.length;
        run.onProgress(before + (chunk.fileBytes ?? read));
      }
      if (lastByte !== NL) await mapper.write(Buffer.from('\n'));
      lastByte = NL;
      before += piece.end - piece.start;
    }
    await mapper.finish();
  } catch (e) {
    mapper.kill();
    throw e;
  }
  return { records, bytes };
}
