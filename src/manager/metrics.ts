import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The manager's Prometheus metrics, in a registry of its own (tests start several managers). */
export class ManagerMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'torpedo_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'torpedo_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (to the first byte of streamed bodies)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [this.registry],
  });
  readonly tasks = new Counter({
    name: 'torpedo_tasks_total',
    help: 'Task attempts that ended, by kind (setup, map, reduce) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobs: Gauge<'status'>;

  constructor(countJobs: () => Promise<Record<string, number>>) {
    this.jobs = new Gauge({
      name: 'torpedo_jobs',
      help: 'Jobs by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await countJobs();
        for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) this.set({ status }, counts[status] ?? 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'torpedo_manager_' });
  }
}
