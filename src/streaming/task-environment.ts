import { splitBytes, type Split } from '../input/splits.ts';

/** Which attempt a streaming command runs for: what its environment tells it. */
export interface TaskIdentity {
  readonly jobId: string;
  readonly kind: 'map' | 'reduce';
  /** Task name, e.g. `map-00003`. */
  readonly taskId: string;
  /** e.g. `map-00003-a0`. */
  readonly attemptId: string;
  /** The task's number within its kind (the reduce task's partition). */
  readonly index: number;
  /** A map task's split: the input file's name as the job's user knows it, and the byte range. */
  readonly split?: Split;
}

/**
 * The variables Hadoop Streaming gives a command, under both of its names (the current
 * `mapreduce_*` and the older `map_input_file`, `mapred_*` that many scripts still read), so a
 * script written for Hadoop runs unchanged. Values are torpedo's own: ids are torpedo's task and
 * attempt names (`map-00003`, `map-00003-a0`), not Hadoop's `task_…_m_000003`. Called once per
 * command run.
 */
export function taskEnvironment(t: TaskIdentity): Record<string, string> {
  const isMap = t.kind === 'map' ? 'true' : 'false';
  const env: Record<string, string> = {
    mapreduce_job_id: t.jobId,
    mapreduce_task_id: t.taskId,
    mapreduce_task_attempt_id: t.attemptId,
    mapreduce_task_partition: String(t.index),
    mapreduce_task_ismap: isMap,
    mapred_job_id: t.jobId,
    mapred_tip_id: t.taskId,
    mapred_task_id: t.attemptId,
    mapred_task_partition: String(t.index),
    mapred_task_is_map: isMap,
  };
  if (t.split !== undefined) {
    const input = { file: t.split.name ?? t.split.file, start: String(t.split.start), length: String(splitBytes(t.split)) };
    for (const prefix of ['mapreduce_map_input_', 'map_input_']) {
      env[`${prefix}file`] = input.file;
      env[`${prefix}start`] = input.start;
      env[`${prefix}length`] = input.length;
    }
  }
  return env;
}
