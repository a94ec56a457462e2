import { z } from 'zod';
import type { JOB_SETTINGS } from './job-settings.ts';
import { TaskKindSchema, type TaskKind } from './messages.ts';

/**
 * The names of tasks, attempts and their outputs. Master and workers build paths from them on
 * shared storage, logs and errors show them, and users' scripts read `part-r-00000`: they must
 * not change. A task's number has five digits or more (Hadoop's `%05d`): `map-00003`,
 * `reduce-123456`.
 *
 *   taskName     map-00003         a task, in logs, errors, `ctx.taskId` and counters/<task>.json
 *   attemptId    map-00003-a1      an attempt (its number counts from 0), in the task protocol
 *   mapRunName   map-00003.run     the committed output of a map task, in _temporary/map/
 *   partName     part-r-00003      the output of a reduce task, in OUTPUT/ (part-r-00003.gz and so
 *                                  on when compressed: Hadoop's extensions, PART_EXTENSIONS);
 *                                  in _temporary/reduce/ it has no extension
 *   mapPartName  part-m-00003      the output of a map task of a map-only job (--reducers 0), in
 *                                  OUTPUT/; in _temporary/map/ it is map-00003.run
 */

const NUMBER = '(0\\d{4}|[1-9]\\d{4,})';
const KIND = `(${TaskKindSchema.options.join('|')})`;

export const TASK_NAME = new RegExp(`^${KIND}-${NUMBER}$`);
export const ATTEMPT_ID = new RegExp(`^${KIND}-${NUMBER}-a(0|[1-9]\\d*)$`);
export const MAP_RUN_NAME = new RegExp(`^map-${NUMBER}\\.run$`);
/** A codec of part files: a value of the `outputCompression` setting. */
export type PartCompression = (typeof JOB_SETTINGS.outputCompression.choices)[number];

/** The extension of a part file written with each `outputCompression` (Hadoop's codecs' defaults). */
export const PART_EXTENSIONS = { none: '', gzip: '.gz', zstd: '.zst', bzip2: '.bz2' } as const satisfies Record<PartCompression, string>;

/** A part file in OUTPUT/: a reduce task's (`part-r-`), or a map task's in a map-only job (`part-m-`). */
export const PART_NAME = new RegExp(`^part-[rm]-${NUMBER}(\\.gz|\\.zst|\\.bz2)?$`);

/** A named output's file (`emit.to`) in OUTPUT/: `good-r-00003`, `rejected-m-00001.gz`. */
export const NAMED_OUTPUT = new RegExp(`^([A-Za-z][A-Za-z0-9]*)-([rm])-${NUMBER}(\\.gz|\\.zst|\\.bz2)?$`);

export const TaskNameSchema = z.string().regex(TASK_NAME, 'expected a task name such as map-00003');
export const AttemptIdSchema = z.string().regex(ATTEMPT_ID, 'expected an attempt id such as map-00003-a0');
export const MapRunNameSchema = z.string().regex(MAP_RUN_NAME, 'expected a map output name such as map-00003.run');
export const PartNameSchema = z.string().regex(PART_NAME, 'expected a part name such as part-r-00003');
/** A file an output's manifest lists: a part, or a named output's file (`good-r-00003`). */
export const OutputFileNameSchema = z.string().refine((n) => PART_NAME.test(n) || NAMED_OUTPUT.test(n), 'expected a part name such as part-r-00003, or a named output such as good-r-00003');

export interface TaskRef {
  readonly kind: TaskKind;
  readonly index: number;
}

const digits = (n: number): string => String(n).padStart(5, '0');

export function taskName(task: TaskRef): string {
  return `${task.kind}-${digits(task.index)}`;
}

/** `attempt`: the attempt's number within its task, 0 for the first. */
export function attemptId(task: TaskRef, attempt: number): string {
  return `${taskName(task)}-a${attempt}`;
}

export function mapRunName(m: number): string {
  return `map-${digits(m)}.run`;
}

/** Part r's name in OUTPUT/; `compression` adds its extension (`part-r-00003.gz`). */
export function partName(r: number, compression: PartCompression = 'none'): string {
  return `part-r-${digits(r)}${PART_EXTENSIONS[compression]}`;
}

/** Map task m's part in OUTPUT/ in a map-only job (`part-m-00003`, Hadoop's name), with its extension. */
export function mapPartName(m: number, compression: PartCompression = 'none'): string {
  return `part-m-${digits(m)}${PART_EXTENSIONS[compression]}`;
}

/** Task `index`'s file of the named output `name` (a reduce's `r`, a map-only map's `m`), with its extension. */
export function namedOutputName(name: string, kind: 'r' | 'm', index: number, compression: PartCompression = 'none'): string {
  return `${name}-${kind}-${digits(index)}${PART_EXTENSIONS[compression]}`;
}

/** The codec a part file's name says it was written with (`part-r-00000.zst`: zstd). */
export function partCompression(name: string): PartCompression {
  const m = PART_NAME.exec(name);
  const ext = m?.[2] ?? NAMED_OUTPUT.exec(name)?.[4] ?? '';
  return (Object.keys(PART_EXTENSIONS) as PartCompression[]).find((c) => PART_EXTENSIONS[c] === ext) ?? 'none';
}

/** The task a name names, or undefined if `name` is not a task name. */
export function parseTaskName(name: string): TaskRef | undefined {
  const m = TASK_NAME.exec(name);
  return m === null ? undefined : { kind: m[1] as TaskKind, index: Number(m[2]) };
}

export function parseAttemptId(id: string): (TaskRef & { readonly attempt: number }) | undefined {
  const m = ATTEMPT_ID.exec(id);
  return m === null ? undefined : { kind: m[1] as TaskKind, index: Number(m[2]), attempt: Number(m[3]) };
}

/** The map task whose output `name` is, or undefined. */
export function parseMapRunName(name: string): number | undefined {
  const m = MAP_RUN_NAME.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/** The task whose output `name` is (a reduce task's, or a map task's for `part-m-`), or undefined (`_SUCCESS`, a stray file). */
export function parsePartName(name: string): number | undefined {
  const m = PART_NAME.exec(name);
  return m === null ? undefined : Number(m[1]);
}
