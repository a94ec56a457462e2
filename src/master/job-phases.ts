import type { TaskKind } from '../protocol/messages.ts';

/**
 * The job's phases, moved only through one table; an impossible move throws with a diagnostic.
 *
 *   setup ──tasks-done──► map ──tasks-done──► reduce ──tasks-done──► commit ──committed──► succeeded
 *     │                   ▲                  │
 *     │                   └──map-output-lost─┘ (a reduce could not read a map's output: re-run it)
 *     └──────────────┴──────────────┴────────────┴──fail (a task, the workers, abort)──► failed
 *
 * A job without a setup task starts in map. A phase whose tasks are all done already (reused by
 * `--resume`) is passed through at once.
 */
export type Phase = 'setup' | 'map' | 'reduce' | 'commit' | 'succeeded' | 'failed';
export type PhaseEvent = 'tasks-done' | 'committed' | 'fail' | 'map-output-lost';

const TRANSITIONS: Readonly<Record<Phase, Partial<Record<PhaseEvent, Phase>>>> = {
  setup: { 'tasks-done': 'map', fail: 'failed' },
  map: { 'tasks-done': 'reduce', fail: 'failed' },
  reduce: { 'tasks-done': 'commit', 'map-output-lost': 'map', fail: 'failed' },
  commit: { committed: 'succeeded', fail: 'failed' },
  succeeded: {},
  failed: {},
};

export class JobPhases {
  #phase: Phase;

  constructor(hasSetup: boolean) {
    this.#phase = hasSetup ? 'setup' : 'map';
  }

  get current(): Phase {
    return this.#phase;
  }

  /** The kind of task handed out now; undefined once every task is done (commit) or the job ended. */
  get taskKind(): TaskKind | undefined {
    const p = this.#phase;
    return p === 'setup' || p === 'map' || p === 'reduce' ? p : undefined;
  }

  get ended(): boolean {
    return this.#phase === 'succeeded' || this.#phase === 'failed';
  }

  /** Moves along the table; throws if `event` cannot happen in the current phase. */
  fire(event: PhaseEvent): Phase {
    const to = TRANSITIONS[this.#phase][event];
    if (to === undefined) throw new Error(`job phase: no transition '${event}' from ${this.#phase}`);
    this.#phase = to;
    return to;
  }

  /** Passes every task phase whose tasks are all done (`finished(kind)`); stops at commit. */
  advance(finished: (kind: TaskKind) => boolean): Phase {
    for (let kind = this.taskKind; kind !== undefined && finished(kind); kind = this.taskKind) this.fire('tasks-done');
    return this.#phase;
  }
}
