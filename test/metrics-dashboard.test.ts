// deploy/grafana-dashboard.json against the manager's real /metrics: the dashboard is JSON that
// Grafana imports (panels with ids, positions and queries, one Prometheus data source), and every
// metric it queries is one the manager exports. A renamed metric fails here, not on a blank chart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './helpers.ts';
import { ADMIN_PASSWORD, startTestManager, type TestManager } from './support/manager-harness.ts';

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource: { readonly type: string; readonly uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
  __inputs: { name: string; pluginId: string }[];
};

/** The metric names a PromQL expression reads (labels are never named torpedo_…). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\btorpedo_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

describe('the Grafana dashboard', () => {
  let m: TestManager;
  let exported: Set<string>;

  before(async () => {
    m = await startTestManager('pglite');
    const admin = await m.login('admin', ADMIN_PASSWORD);
    const text = (await m.call('GET', '/metrics', { token: admin })).body;
    // Every metric has a TYPE line, with or without samples yet; histograms' series add suffixes.
    exported = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
  });
  after(async () => {
    await m?.close();
  });

  test('is a dashboard Grafana can import: one Prometheus input, unique panel ids, a query in every chart', () => {
    assert.equal(dashboard.uid, 'torpedo-manager');
    assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.pluginId]), [['DS_PROMETHEUS', 'prometheus']]);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of dashboard.panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
      if (p.type === 'row') continue;
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) assert.equal(t.datasource.uid, '${DS_PROMETHEUS}', p.title);
    }
  });

  test('queries only metrics the manager exports, and charts each of the per-job ones', () => {
    const queried = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query.query)].flatMap(metricsOf);
    assert.ok(queried.length > 10);
    for (const name of queried) assert.ok(exported.has(name), `the dashboard queries ${name}, which the manager's /metrics does not export`);
    for (const name of ['torpedo_job_tasks', 'torpedo_job_attempts', 'torpedo_job_read_bytes', 'torpedo_job_input_bytes', 'torpedo_job_input_bytes_total', 'torpedo_job_output_bytes_total', 'torpedo_job_duration_seconds_bucket', 'torpedo_queue_length']) {
      assert.ok(queried.includes(name), `the dashboard charts ${name}`);
    }
  });
});
