import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'preact/hooks';
import type { Point } from './throughput-data.ts';
import { useChart, fixYAxisWidth } from './use-chart.ts';

/** Map input MiB/s over time: from finished map tasks, and measured live while the page watched. */
export function ThroughputChart(props: { fromTasks: readonly Point[]; live: readonly Point[]; xMax: number }) {
  const config = useMemo((): ChartConfiguration<'line', Point[]> => {
    const datasets: ChartConfiguration<'line', Point[]>['data']['datasets'] = [];
    if (props.fromTasks.length > 0) {
      datasets.push({ label: 'finished map tasks', data: [...props.fromTasks], borderColor: '#1d4ed8', backgroundColor: 'rgba(29, 78, 216, 0.15)', fill: true, pointRadius: 0, cubicInterpolationMode: 'monotone', borderWidth: 2 });
    }
    if (props.live.length > 0) {
      datasets.push({ label: 'live (progress events)', data: [...props.live], borderColor: '#ea580c', backgroundColor: '#ea580c', fill: false, pointRadius: 2, cubicInterpolationMode: 'monotone', borderWidth: 2 });
    }
    return {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', min: 0, suggestedMax: props.xMax, title: { display: true, text: 'seconds since the job started' } },
          y: { type: 'linear', min: 0, title: { display: true, text: 'MiB/s read by maps' }, afterFit: fixYAxisWidth },
        },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 14 } }, tooltip: { callbacks: { label: (i) => `${i.dataset.label ?? ''}: ${(i.raw as Point).y.toFixed(2)} MiB/s at ${(i.raw as Point).x.toFixed(1)} s` } } },
      },
    };
  }, [props.fromTasks, props.live, props.xMax]);
  const canvas = useChart(config as unknown as ChartConfiguration<'bar' | 'line', unknown[]>);
  const peak = Math.max(0, ...props.fromTasks.map((p) => p.y), ...props.live.map((p) => p.y));
  return (
    <div class="chart" style={{ height: '240px' }}>
      <canvas ref={canvas} role="img" aria-label={`Map input throughput over time; peak ${peak.toFixed(1)} MiB/s.`} />
    </div>
  );
}
