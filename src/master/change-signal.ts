/**
 * Long polls wait here for something to change: a task freed, a phase moved, the job ended.
 * `notify` wakes every waiter at once; each then looks again for work.
 */
export class ChangeSignal {
  readonly #waiters = new Set<() => void>();

  /** Resolves true when `notify` is called, false after `ms` without one. */
  wait(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(false);
      }, ms);
      this.#waiters.add(waiter);
    });
  }

  notify(): void {
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }
}
