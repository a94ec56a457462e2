/**
 * Where the master's policies get the time: leases, backups, task timeouts and the times shown
 * for attempts. Injected, so that the policies can be tested on a fake clock.
 */
export interface Clock {
  /** Milliseconds since the epoch, never going backwards. Called on every protocol request. */
  now(): number;
}

/**
 * The real clock. It is the epoch time of the process's start plus a monotonic count, so that a
 * wall-clock step (NTP, a suspended VM) can neither expire every lease at once nor keep one alive.
 */
export const systemClock: Clock = {
  now: () => Math.floor(performance.timeOrigin + performance.now()),
};

/** A clock that moves only when told to: for tests of the policies that read it. */
export class FakeClock implements Clock {
  #now: number;

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
