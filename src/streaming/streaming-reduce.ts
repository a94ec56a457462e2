import type { AttemptContext } from '../worker/task-context.ts';
import { OutputWriter, type PartEncoding } from '../shuffle/output-writer.ts';
import type { ReduceResult } from '../worker/reduce-runner.ts';
import { writeSortedLines } from './shuffle-lines.ts';
import { StreamingProcess } from './streaming-process.ts';
import type { StreamingSpec } from './streaming-spec.ts';
import { taskEnvironment, type TaskIdentity } from './task-environment.ts';

export interface StreamingReduceRun {
  readonly spec: StreamingSpec;
  /** The attempt's scratch directory: the reducer's working directory is made in it. */
  readonly attemptDir: string;
  readonly partition: number;
  readonly mapOutputs: readonly string[];
  readonly ctx: AttemptContext;
  readonly memoryBytes: number;
  /** Most map outputs merged at once (more: merge passes in attemptDir). */
  readonly mergeFactor: number;
  readonly maxRecordBytes: number;
  readonly outputPath: string;
  /** The part's format and codec (the job's outputFormat, outputCompression). */
  readonly encoding?: PartEncoding;
  readonly onProgress: (bytes: number) => void;
  /** The job and attempt, for the command's environment. */
  readonly task: Omit<TaskIdentity, 'kind' | 'split' | 'index'>;
}

/**
 * A streaming reduce attempt: the partition's pairs, merged in key-byte order, go to the
 * reducer's stdin as `key<TAB>value` lines, streamed with backpressure (a partition larger than
 * memory never sits in memory); every line the reducer writes is a line of the part file.
 */
export async function runStreamingReduce(run: StreamingReduceRun): Promise<ReduceResult> {
  const out = new OutputWriter(run.outputPath, run.encoding);
  const reducer = new StreamingProcess({
    role: 'reducer',
    command: run.spec.reducer,
    spec: run.spec,
    attemptDir: run.attemptDir,
    maxLineBytes: run.maxRecordBytes,
    onLine: (buf, start, end) => out.writeLine(buf, start, end),
    count: (name, n) => run.ctx.count(name, n),
    env: taskEnvironment({ ...run.task, kind: 'reduce', index: run.partition }),
  });
  let fed;
  try {
    fed = await writeSortedLines(run.mapOutputs, run.partition, { memoryBytes: run.memoryBytes, mergeFactor: run.mergeFactor, scratchDir: run.attemptDir }, (batch) => reducer.write(batch));
    await reducer.finish();
  } catch (e) {
    reducer.kill();
    throw e;
  } finally {
    out.close();
  }
  run.onProgress(fed.bytes);
  return {
    part: out.checksum(),
    counters: {
      'reduce input groups': fed.groups,
      'reduce input pairs': fed.pairs,
      'reduce output lines': out.lines,
      'reduce shuffle bytes': fed.bytes,
    },
  };
}
