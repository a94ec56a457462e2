import { useEffect, useRef, useState } from 'preact/hooks';

/** The time, updated every `ms` while `active` (for durations of running jobs). */
export function useNow(ms: number, active = true): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms, active]);
  return now;
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
