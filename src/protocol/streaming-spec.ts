import { z } from 'zod';

/**
 * A streaming job (Hadoop Streaming's protocol): shell commands for map, reduce and optionally
 * combine, and the files they need (`--file`), copied into each task's working directory. Part
 * of the job's spec (job.json) and of the JobInfo a master gives its workers; src/streaming/
 * runs it.
 */
export const StreamingSpecSchema = z.object({
  mapper: z.string().min(1),
  reducer: z.string().min(1),
  combiner: z.string().min(1).optional(),
  /** Directory holding the `--file` files (OUTPUT/_temporary/files). */
  filesDir: z.string(),
  /** Run commands in sandboxes of their own (see streaming/command-sandbox.ts); off with --no-sandbox. */
  confine: z.boolean(),
  /** Heap limit of the worker, reused as the memory limit of each command (bytes; 0: the default, 2 GiB). */
  memoryLimitBytes: z.number().int().nonnegative(),
  /** The task time limit, reused as each command's CPU-time limit (ms; 0 or absent: a day). */
  taskTimeoutMs: z.number().int().nonnegative().optional(),
});

export type StreamingSpec = z.infer<typeof StreamingSpecSchema>;
