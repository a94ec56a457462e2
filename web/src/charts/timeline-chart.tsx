import type { ChartConfiguration, ChartDataset, ScriptableContext, TooltipItem } from 'chart.js';
import { useMemo } from 'preact/hooks';
import type { AttemptState } from '../api.ts';
import type { Timeline, TimelineBar } from './timeline-data.ts';
import { attemptLogPath, navigate } from '../router.ts';
import { useChart, fixYAxisWidth } from './use-chart.ts';

/** Colours by outcome; the legend's order. Backups are drawn with a dark outline on top. */
export const OUTCOMES: readonly { readonly state: AttemptState | 'stopped'; readonly label: string; readonly color: string }[] = [
  { state: 'succeeded', label: 'succeeded', color: '#16a34a' },
  { state: 'running', label: 'running', color: '#3b82f6' },
  { state: 'failed', label: 'failed', color: '#dc2626' },
  { state: 'lost', label: 'lost (worker died)', color: '#f59e0b' },
  { state: 'killed', label: 'killed (another attempt won)', color: '#9ca3af' },
  { state: 'stopped', label: 'stopped (the job ended)', color: '#4b5563' },
];
const BACKUP_OUTLINE = '#111827';

type Datum = { x: [number, number]; y: string; bar: TimelineBar };

/** Task attempts per worker over time: a Gantt chart of floating horizontal bars; a click on one opens its log. */
export function TimelineChart(props: { timeline: Timeline; xMax: number; /** Makes each bar a link to its attempt's log. */ jobId?: string }) {
  const { workers, bars } = props.timeline;
  const config = useMemo((): ChartConfiguration<'bar', Datum[]> => {
    const bar = { borderSkipped: false as const, grouped: false, barPercentage: 0.9, categoryPercentage: 0.85 };
    const plain = bars.filter((b) => !b.backup);
    const datasets: ChartDataset<'bar', Datum[]>[] = OUTCOMES.filter((o) => o.state === 'succeeded' || plain.some((b) => b.state === o.state)).map((o) => ({
      ...bar,
      label: o.label,
      data: plain.filter((b) => b.state === o.state).map((b): Datum => ({ x: [b.start, b.end], y: b.worker, bar: b })),
      backgroundColor: o.color,
      minBarLength: 2,
    }));
    // Backups in their own dataset: coloured by outcome like the rest, outlined, and never thinner
    // than a few pixels — a backup that wins is often short.
    const backups = bars.filter((b) => b.backup);
    if (backups.length > 0) {
      const colorOf = (c: ScriptableContext<'bar'>): string => OUTCOMES.find((o) => o.state === (c.raw as Datum | undefined)?.bar.state)?.color ?? '#ffffff';
      datasets.push({
        ...bar,
        label: 'backup attempt (outlined)',
        data: backups.map((b): Datum => ({ x: [b.start, b.end], y: b.worker, bar: b })),
        backgroundColor: colorOf,
        borderColor: BACKUP_OUTLINE,
        borderWidth: 2,
        minBarLength: 8,
      });
    }
    return {
      type: 'bar',
      data: { labels: [...workers], datasets },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        // A bar opens its attempt's log.
        onClick: (_event, elements, chart) => {
          const hit = elements[0];
          const datum = hit !== undefined ? (chart.data.datasets[hit.datasetIndex]?.data[hit.index] as Datum | undefined) : undefined;
          if (datum !== undefined && props.jobId !== undefined) navigate(attemptLogPath(props.jobId, datum.bar.attempt));
        },
        onHover: (event, elements) => {
          const target = event.native?.target as HTMLElement | undefined;
          if (target !== undefined) target.style.cursor = elements.length > 0 && props.jobId !== undefined ? 'pointer' : 'default';
        },
        scales: {
          x: { type: 'linear', min: 0, suggestedMax: props.xMax, title: { display: true, text: 'seconds since the job started' } },
          y: { type: 'category', title: { display: true, text: 'worker' }, ticks: { autoSkip: false }, afterFit: fixYAxisWidth },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              title: (items: TooltipItem<'bar'>[]) => {
                const b = (items[0]?.raw as Datum | undefined)?.bar;
                return b !== undefined ? `${b.task} on ${b.worker}` : '';
              },
              label: (item: TooltipItem<'bar'>) => {
                const b = (item.raw as Datum).bar;
                const lines = [`${b.attempt}: ${b.state}${b.backup ? ' (backup)' : ''}`, `${b.start.toFixed(2)} s → ${b.end.toFixed(2)} s (${(b.end - b.start).toFixed(2)} s)`];
                if (b.error !== undefined) lines.push(b.error.split('\n')[0]!.slice(0, 120));
                return lines;
              },
            },
          },
        },
      },
    };
  }, [workers, bars, props.xMax, props.jobId]);
  const canvas = useChart(config as unknown as ChartConfiguration<'bar' | 'line', unknown[]>);
  // Room for the axis and a legend that wraps on a phone, and a row per worker.
  const height = 130 + Math.max(1, workers.length) * 30;
  return (
    <div class="chart" style={{ height: `${height}px` }}>
      <canvas ref={canvas} role="img" aria-label={describe(props.timeline)} />
    </div>
  );
}

/** The chart in words, for screen readers. */
function describe(t: Timeline): string {
  const by = new Map<string, number>();
  for (const b of t.bars) by.set(b.state, (by.get(b.state) ?? 0) + 1);
  const parts = [...by].map(([s, n]) => `${n} ${s}`);
  const backups = t.bars.filter((b) => b.backup).length;
  return `Timeline of ${t.bars.length} task attempts on ${t.workers.length} workers: ${parts.join(', ')}${backups > 0 ? `; ${backups} backup attempts` : ''}.`;
}
