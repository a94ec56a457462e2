/** What users import: `import { defineJob, sum, type Job } from 'torpedo'`. */
import type { Job } from './job.ts';

export type {
  Emit,
  EmitBytes,
  Job,
  MapBytesContext,
  MapBytesFn,
  MapContext,
  MapFn,
  NonAsciiFn,
  ParamDeclarations,
  ParamSpec,
  PartitionFn,
  ReduceFn,
  SetupContext,
  TaskContext,
} from './job.ts';
export { identity, sum } from './builtin-functions.ts';
export { compareKeys } from '../shuffle/key-order.ts';
export { hashBytes } from '../shuffle/partition.ts';
export { tokenBytes, type TokenBytesOptions } from './token-bytes.ts';

/** Identity function that gives a job object its types: `export default defineJob({...})`. */
export function defineJob<V = unknown, O = unknown, R = string>(job: Job<V, O, R>): Job<V, O, R> {
  return job;
}
