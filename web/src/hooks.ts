import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * The time now, re-rendering at least every `ms` while `active` (for durations of running jobs).
 * Read at each render, so that a render for another reason (a progress event) is not up to `ms` behind.
 */
export function useNow(ms: number, active = true): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [ms, active]);
  return Date.now();
}

/** Runs `f` every `ms` while the tab is visible, and once at once. */
export function usePoll(f: () => void, ms: number, deps: readonly unknown[]): void {
  const latest = useRef(f);
  latest.current = f;
  useEffect(() => {
    latest.current();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    return () => clearInterval(t);
  }, deps);
}

/** Sets the document title and moves focus to the page heading (for keyboard and screen reader users). */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · torpedo`;
  }, [title]);
}

/**
 * Loads data with `load` once at mount; `reload` loads it again (after a change). While the first
 * load runs, `data` is undefined; a failed load keeps the last data and sets `error`.
 */
export function useLoad<T>(load: () => Promise<T>): { data: T | undefined; error: unknown; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const reload = (): void =>
    void load().then(
      (d) => {
        setData(d);
        setError(undefined);
      },
      (e: unknown) => setError(e),
    );
  useEffect(reload, []);
  return { data, error, reload };
}
