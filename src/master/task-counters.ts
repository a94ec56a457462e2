import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PartChecksum } from '../protocol/part-checksum.ts';
import { writeFileAtomically } from './atomic-write.ts';
import type { JobLayout } from './job-layout.ts';

export type Counters = Record<string, number>;

/**
 * The counters of committed tasks, the engine's and the user's, summed for the whole job, with
 * the master's own (`map outputs re-run`); and the peak RSS each worker reported with its attempts.
 */
export class JobCounters {
  readonly counters: Counters = {};
  readonly userCounters: Counters = {};
  readonly workerRss = new Map<string, number>();
  readonly #byTask = new Map<string, { counters: Readonly<Counters>; userCounters: Readonly<Counters> }>();

  /**
   * The counters of `task`'s committed output. A task committed again (re-run after its output
   * was found unreadable) replaces what it counted before: the job counts each task once.
   */
  record(task: string, counters: Readonly<Counters>, userCounters: Readonly<Counters>): void {
    const before = this.#byTask.get(task);
    if (before !== undefined) {
      addInto(this.counters, before.counters, -1);
      addInto(this.userCounters, before.userCounters, -1);
    }
    this.#byTask.set(task, { counters, userCounters });
    addInto(this.counters, counters);
    addInto(this.userCounters, userCounters);
  }

  /** Adds to one of the master's own counters. */
  bump(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /** Keeps the largest RSS a worker has reported. */
  noteRss(workerId: string, bytes: number): void {
    this.workerRss.set(workerId, Math.max(this.workerRss.get(workerId) ?? 0, bytes));
  }
}

/** What the master notes of a committed task: its counters, and for a reduce the checksum of its part. */
export interface TaskNote {
  readonly counters: Counters;
  readonly userCounters: Counters;
  /** A reduce's part: size and CRC-32 as its attempt wrote it (absent: the commit reads the part). */
  readonly part?: PartChecksum;
  /** Its named outputs (`emit.to`): name → size and CRC-32. */
  readonly named?: Readonly<Record<string, PartChecksum>>;
}

/**
 * Notes a committed task's counters (and a reduce's part checksum) in `counters/<task>.json`, so
 * that a master restarted later (`--resume`, Kubernetes) still counts a task it adopts, and the
 * job commit finds every part's checksum. Written atomically; at most once a task. Throws
 * (TORPEDO_ERR_NO_SPACE on a full storage) when it cannot: `Master.done` then fails the job.
 */
export function saveTaskCounters(layout: JobLayout, task: string, note: TaskNote): void {
  mkdirSync(layout.counters, { recursive: true });
  writeFileAtomically(join(layout.counters, `${task}.json`), JSON.stringify(note));
}

/** What an earlier master (or this one) noted of `task`; no counters if it died before noting them. */
export function loadTaskCounters(layout: JobLayout, task: string): TaskNote {
  try {
    return JSON.parse(readFileSync(join(layout.counters, `${task}.json`), 'utf8')) as TaskNote;
  } catch {
    return { counters: {}, userCounters: {} };
  }
}

function addInto(into: Counters, from: Readonly<Counters>, sign = 1): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + sign * v;
}
