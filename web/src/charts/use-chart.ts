import type { Chart, ChartConfiguration } from 'chart.js';
import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * Draws `config` on the canvas in `ref`, loading chart.js on first use; later configs update the
 * same chart (no animation, so live updates do not flicker).
 */
export function useChart(config: ChartConfiguration<'bar' | 'line', unknown[]>): RefObject<HTMLCanvasElement | null> {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar' | 'line', unknown[]> | undefined>(undefined);
  const latest = useRef(config);
  latest.current = config;
  useEffect(() => {
    let cancelled = false;
    void import('./chart-setup.ts').then(({ Chart: ChartClass }) => {
      if (cancelled || canvas.current === null) return;
      chart.current = new ChartClass(canvas.current, latest.current);
    });
    return () => {
      cancelled = true;
      chart.current?.destroy();
      chart.current = undefined;
    };
  }, []);
  useEffect(() => {
    const c = chart.current;
    if (c === undefined) return;
    c.data = config.data;
    if (config.options !== undefined) c.options = config.options;
    c.update('none');
  }, [config]);
  return canvas;
}

/** The job page's charts share a time axis: the same y-axis width makes their plot areas line up. */
export function fixYAxisWidth(axis: { width: number }): void {
  axis.width = 72;
}
