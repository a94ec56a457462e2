import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobSnapshot } from '../master/master.ts';

/** A running job as the metrics see it: its id, and its master's live snapshot if this replica has one. */
export interface RunningJob {
  readonly id: string;
  readonly snapshot: JobSnapshot | undefined;
}

/** What the metrics read when Prometheus scrapes: jobs by status, and the running ones' snapshots. */
export interface MetricsSources {
  readonly countJobs: () => Promise<Record<string, number>>;
  readonly runningJobs: () => Promise<readonly RunningJob[]>;
}

const JOB_DURATION_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/**
 * The manager's Prometheus metrics, in a registry of its own (tests start several managers).
 * Per-job series (label `job`, the job id) exist only while the job runs, so that they do not
 * pile up; what ended jobs did is in the totals and histograms without a job label.
 * deploy/grafana-dashboard.json charts these; test/metrics-dashboard.test.ts keeps it in step.
 */
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
    help: 'Task attempts that ended, by kind (setup, map, reduce) and outcome (succeeded, failed, lost, killed)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'torpedo_job_duration_seconds',
    help: 'Jobs that ended: from start to end, by status',
    labelNames: ['status'] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'torpedo_job_queue_wait_seconds',
    help: 'Jobs that started: time spent queued',
    buckets: JOB_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'torpedo_job_input_bytes_total',
    help: 'Input bytes of jobs that ended',
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'torpedo_job_output_bytes_total',
    help: 'Output bytes (part files) of jobs that succeeded',
    registers: [this.registry],
  });
  readonly jobs: Gauge<'status'>;
  readonly queueLength: Gauge;
  readonly jobTasks: Gauge<'job' | 'kind' | 'state'>;
  readonly jobAttempts: Gauge<'job' | 'kind' | 'state'>;
  readonly jobBytesRead: Gauge<'job'>;
  readonly jobInputBytes: Gauge<'job'>;

  constructor(sources: MetricsSources) {
    // One scrape reads the running jobs once for all four per-job gauges.
    let pending: Promise<readonly RunningJob[]> | undefined;
    const running = (): Promise<readonly RunningJob[]> => {
      pending ??= sources.runningJobs().finally(() => setTimeout(() => (pending = undefined), 0));
      return pending;
    };
    const perJob = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>, job: RunningJob, s: JobSnapshot) => void): Gauge<string> =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          const list = await running();
          this.reset();
          for (const job of list) if (job.snapshot !== undefined) fill(this, job, job.snapshot);
        },
      });
    this.jobs = new Gauge({
      name: 'torpedo_jobs',
      help: 'Jobs by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await sources.countJobs();
        for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) this.set({ status }, counts[status] ?? 0);
      },
    });
    this.queueLength = new Gauge({
      name: 'torpedo_queue_length',
      help: 'Jobs waiting to start',
      registers: [this.registry],
      async collect() {
        this.set((await sources.countJobs())['queued'] ?? 0);
      },
    });
    this.jobTasks = perJob('torpedo_job_tasks', 'Tasks of each running job, by kind and state (pending, running, done, failed)', ['job', 'kind', 'state'], (g, job, s) => {
      const n = new Map<string, { kind: string; state: string; n: number }>();
      for (const t of s.tasks) {
        const k = `${t.kind}/${t.state}`;
        n.set(k, { kind: t.kind, state: t.state, n: (n.get(k)?.n ?? 0) + 1 });
      }
      for (const v of n.values()) g.set({ job: job.id, kind: v.kind, state: v.state }, v.n);
    });
    this.jobAttempts = perJob('torpedo_job_attempts', 'Attempts of each running job, by kind and state (running, succeeded, failed, lost, killed)', ['job', 'kind', 'state'], (g, job, s) => {
      for (const t of s.tasks) for (const a of t.attempts) g.inc({ job: job.id, kind: t.kind, state: a.state });
    });
    this.jobBytesRead = perJob('torpedo_job_read_bytes', 'Input bytes each running job has read so far', ['job'], (g, job, s) => g.set({ job: job.id }, s.mapBytes));
    this.jobInputBytes = perJob('torpedo_job_input_bytes', 'Input bytes of each running job', ['job'], (g, job, s) => g.set({ job: job.id }, s.inputBytes));
    collectDefaultMetrics({ register: this.registry, prefix: 'torpedo_manager_' });
  }
}
