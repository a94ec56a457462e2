import { z } from 'zod';

/**
 * A streaming job (Hadoop Streaming's protocol): shell commands for map, reduce and optionally
 * combine, and the files they need (`--file`), copied into each task's working directory.
 */
export const StreamingSpecSchema = z.object({
  mapper: z.string().min(1),
  reducer: z.string().min(1),
  combiner: z.string().min(1).optional(),
  /** Directory holding the `--file` files (OUTPUT/_temporary/files). */
  filesDir: z.string(),
  /** Run commands as an unprivileged user without network (see confine.ts); off with --no-sandbox. */
  confine: z.boolean(),
  /** Heap limit of the worker, reused as the address-space limit of each command (bytes; 0: none). */
  memoryLimitBytes: z.number().int().nonnegative(),
});

export type StreamingSpec = z.infer<typeof StreamingSpecSchema>;
