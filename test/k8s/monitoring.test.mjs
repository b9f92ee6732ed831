// The chart's monitoring and autoscaling objects: the Grafana dashboard (structure, variables, and
// that every expression filters by the selected pods), the alert rules (each has a promtool unit
// test that sees it fire and one that sees it quiet, a runbook, thresholds from values), that every
// metric either names is one the code registers, and the HPA/PDB/Deployment combination.
// promtool itself parses every expression and runs the unit tests in run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { createMetrics } from '../../dist/metrics.js';
import { loadDocs } from './lib.mjs';
import { allPanels, dashboardExpressions, dashboardFile, metricSelectors } from './promql.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const kind = (docs, k) => docs.filter((d) => d.kind === k);
const chart = (name) => loadDocs(`chart-${name}.yaml`);
const dashboardText = readFileSync(dashboardFile, 'utf8');
const dashboard = JSON.parse(dashboardText);
const rules = kind(chart('monitoring'), 'PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g) => g.rules));

// ---- the metric names the code registers --------------------------------------------------------
const registered = new Set();
for (const m of createMetrics('test').registry.getMetricsAsArray()) {
  registered.add(m.name);
  if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) registered.add(m.name + s);
}
// Series other exporters produce, allowed in the alert rules only: Prometheus's own scrape health
// and the kubelet's readiness as kube-state-metrics reports it.
const FOREIGN_IN_RULES = new Set(['up', 'kube_pod_status_ready']);
// Registered metrics the dashboard does not chart, on purpose.
// outrigger_idle_gc_total: its effect is the RSS panel's drop after a load; the count itself says little on a chart.
const NOT_CHARTED = new Set(['outrigger_trailers_dropped_total', 'outrigger_idle_gc_total']);

test('the metric-name extractor finds names, skips functions, labels, strings and durations', () => {
  const names = (e) => metricSelectors(e).map((s) => s.name);
  assert.deepEqual(names('histogram_quantile(0.99, sum by (backend, le) (rate(outrigger_upstream_response_seconds_bucket{job=~"$job", le!="1"}[5m])))'),
    ['outrigger_upstream_response_seconds_bucket']);
  assert.deepEqual(names('sum(rate(a_total{x="y"}[5m])) / ignoring(kind) group_left sum without (z) (b) > bool 0.5 and on(pod) c offset 15m'), ['a_total', 'b', 'c']);
  assert.deepEqual(names('min by (cert) (outriger_tls_expiry{pod=~"$pod"}) - time() < 14 * 86400'), ['outriger_tls_expiry']);
  assert.equal(metricSelectors('up{namespace="edge", job="x"} == 0')[0].matchers, 'namespace="edge", job="x"');
});

test('dashboard: valid Grafana JSON with a datasource variable and namespace/job/pod/backend selectors', () => {
  assert.equal(dashboard.uid, 'outrigger');
  assert.equal(dashboard.title, 'Outrigger');
  assert.equal(dashboard.id, null, 'no instance-specific id (importable anywhere)');
  assert.ok(dashboard.schemaVersion >= 36);
  const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
  assert.deepEqual(Object.keys(vars), ['datasource', 'namespace', 'job', 'pod', 'backend']);
  assert.equal(vars.datasource.type, 'datasource');
  assert.equal(vars.datasource.query, 'prometheus');
  for (const name of ['namespace', 'job', 'pod', 'backend']) {
    assert.equal(vars[name].type, 'query', name);
    assert.deepEqual(vars[name].datasource, { type: 'prometheus', uid: '${datasource}' }, name);
    assert.match(vars[name].definition, new RegExp(`^label_values\\(\\w+(\\{.*\\})?, ${name}\\)$`), name);
  }
  assert.ok(vars.pod.multi && vars.pod.includeAll && vars.backend.multi && vars.backend.includeAll);
});

test('dashboard: panels have unique ids, a place on the 24-column grid without overlap, and use the datasource variable', () => {
  const panels = allPanels(dashboard);
  assert.ok(panels.length >= 30, `${panels.length} panels`);
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate panel ids');
  const cells = new Map();
  for (const p of panels) {
    const where = `panel ${p.id} "${p.title}"`;
    assert.ok(p.title && p.type, where);
    const { x, y, w, h } = p.gridPos ?? {};
    for (const n of [x, y, w, h]) assert.ok(Number.isInteger(n) && n >= 0, `${where} gridPos ${JSON.stringify(p.gridPos)}`);
    assert.ok(w >= 1 && h >= 1 && x + w <= 24, `${where} gridPos ${JSON.stringify(p.gridPos)}`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        assert.ok(!cells.has(`${i},${j}`), `${where} overlaps panel ${cells.get(`${i},${j}`)}`);
        cells.set(`${i},${j}`, p.id);
      }
    }
    if (p.type === 'row') continue;
    assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, where);
    assert.ok(p.targets?.length > 0, `${where} has no query`);
    const refIds = p.targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${where} duplicate refId`);
    for (const t of p.targets) {
      assert.deepEqual(t.datasource, p.datasource, `${where} ${t.refId} datasource`);
      assert.ok(typeof t.expr === 'string' && t.expr.length > 0, `${where} ${t.refId} expr`);
    }
  }
});

test('dashboard: every series it reads is filtered by the namespace, job and pod variables', () => {
  for (const [where, expr] of dashboardExpressions(dashboard)) {
    const selectors = metricSelectors(expr);
    assert.ok(selectors.length > 0, `${where}: no metric in ${expr}`);
    for (const { name, matchers } of selectors) {
      for (const v of ['namespace', 'job', 'pod']) {
        assert.ok(matchers.includes(`${v}=~"$${v}"`), `${where}: ${name} is not filtered by $${v}: ${expr}`);
      }
    }
  }
});

test('dashboard and alert rules name only metrics that the code registers', () => {
  const unknown = [];
  for (const [where, expr] of dashboardExpressions(dashboard)) {
    for (const { name } of metricSelectors(expr)) if (!registered.has(name)) unknown.push(`dashboard ${where}: ${name}`);
  }
  for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
    for (const { name } of metricSelectors(v.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1'))) {
      if (!registered.has(name)) unknown.push(`dashboard variable ${v.name}: ${name}`);
    }
  }
  for (const r of rules) {
    for (const { name } of metricSelectors(r.expr)) {
      if (!registered.has(name) && !FOREIGN_IN_RULES.has(name)) unknown.push(`alert ${r.alert}: ${name}`);
    }
  }
  assert.deepEqual(unknown, []);
  assert.ok(registered.has('outrigger_upstream_response_seconds_bucket') && registered.has('process_cpu_seconds_total'));
});

test('dashboard charts every outrigger_* metric the code registers', () => {
  const used = new Set(dashboardExpressions(dashboard).flatMap(([, e]) => metricSelectors(e).map((s) => s.name.replace(/_(bucket|sum|count)$/, ''))));
  const missing = [...registered].filter((n) => n.startsWith('outrigger_') && !/_(bucket|sum|count)$/.test(n))
    .filter((n) => !used.has(n) && !NOT_CHARTED.has(n));
  assert.deepEqual(missing, [], 'add a panel, or list the metric in NOT_CHARTED');
});

test('dashboard ConfigMap: the chart file verbatim, the sidecar label, rendered with or without the monitoring API', () => {
  for (const name of ['monitoring', 'monitoring-without-api']) {
    const [cm] = kind(chart(name), 'ConfigMap').filter((c) => c.metadata.name === 'outrigger-dashboard');
    assert.ok(cm, name);
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.equal(cm.metadata.namespace, 'monitoring');
    assert.equal(cm.metadata.annotations.grafana_folder, 'Outrigger');
    assert.equal(cm.data['outrigger.json'], dashboardText.trim());
  }
  assert.equal(kind(chart('default'), 'ConfigMap').length, 0, 'off by default');
  const custom = render(['--set', 'grafana.dashboard.enabled=true', '--set', 'grafana.dashboard.labelKey=dashboards', '--set', 'grafana.dashboard.labelValue=outrigger']);
  const [cm] = kind(custom, 'ConfigMap');
  assert.equal(cm.metadata.labels.dashboards, 'outrigger');
  assert.equal(cm.metadata.labels.grafana_dashboard, undefined);
  assert.equal(cm.metadata.namespace, 'edge');
});

test('PrometheusRule: only when enabled and monitoring.coreos.com/v1 exists', () => {
  assert.equal(kind(chart('monitoring'), 'PrometheusRule').length, 1);
  assert.equal(kind(chart('monitoring-without-api'), 'PrometheusRule').length, 0, 'no API');
  assert.equal(kind(chart('default-with-monitoring-api'), 'PrometheusRule').length, 0, 'not enabled');
  const [pr] = kind(chart('monitoring'), 'PrometheusRule');
  assert.equal(pr.metadata.labels.release, 'kube-prometheus-stack');
});

// ---- alert rules ----------------------------------------------------------------------------------
const ruleTests = readdirSync(new URL('rules/', import.meta.url)).filter((f) => f.endsWith('.test.yaml'))
  .map((f) => [f, parse(readFileSync(new URL(`rules/${f}`, import.meta.url), 'utf8'))]);
const EXPECTED_ALERTS = ['OutriggerTargetDown', 'OutriggerNoHealthyBackend', 'OutriggerBackendsDegraded', 'OutriggerHighErrorRate',
  'OutriggerUpstreamLatencyHigh', 'OutriggerRetryBudgetExhausted', 'OutriggerOutlierEjections', 'OutriggerCertificateExpiring',
  'OutriggerConfigReloadFailing', 'OutriggerReadinessFlapping'];

test('alert rules: the set on-call needs, each with severity, summary, description and runbook_url', () => {
  assert.deepEqual([...new Set(rules.map((r) => r.alert))], EXPECTED_ALERTS);
  for (const r of rules) {
    assert.match(r.labels.severity, /^(critical|warning)$/, r.alert);
    assert.equal(r.labels.team, 'edge', `${r.alert}: additionalAlertLabels`);
    assert.ok(r.annotations.summary && r.annotations.description, r.alert);
    assert.equal(r.annotations.runbook_url, `https://outrigger.example.com/docs/kubernetes#${r.alert.toLowerCase()}`);
  }
  assert.deepEqual(rules.filter((r) => r.alert === 'OutriggerCertificateExpiring').map((r) => r.labels.severity), ['warning', 'critical']);
});

test('alert rules: every alert has a promtool test where it fires and one where it stays quiet', () => {
  for (const alert of EXPECTED_ALERTS) {
    const cases = ruleTests.flatMap(([, t]) => t.tests.flatMap((c) => c.alert_rule_test.filter((a) => a.alertname === alert)));
    assert.ok(cases.some((a) => a.exp_alerts.length > 0), `${alert}: no test where it fires`);
    assert.ok(cases.some((a) => a.exp_alerts.length === 0), `${alert}: no test where it stays quiet`);
  }
  for (const [file, t] of ruleTests) assert.deepEqual(t.rule_files, ['outrigger.rules.yaml'], file);
});

test('alert rules: every alert has its runbook section in docs/kubernetes.md', () => {
  const docs = readFileSync(`${repo}docs/kubernetes.md`, 'utf8');
  for (const alert of EXPECTED_ALERTS) assert.match(docs, new RegExp(`^#### ${alert}$`, 'm'), alert);
});

/** helm template with these flags and, when given, a values file made of `values`. */
function render(args, values) {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values ?? {}));
    const out = execFileSync(`${repo}node_modules/.bin/helm`, ['template', 'outrigger', `${repo}helm/outrigger`, '--namespace', 'edge',
      '--kube-version', '1.30.0', '-f', file, ...args], { encoding: 'utf8' });
    return parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('alert rules: thresholds, durations, selector and switches come from values', () => {
  const docs = render(['--api-versions', 'monitoring.coreos.com/v1'], { prometheusRule: {
    enabled: true, selector: 'cluster="eu1", namespace="edge"',
    alerts: { highErrorRate: { threshold: 0.2, for: '15m' }, certificateExpiring: { warningDays: 30 }, targetDown: { enabled: false },
      noHealthyBackend: { severity: 'warning' } } } });
  const byName = (n) => kind(docs, 'PrometheusRule')[0].spec.groups[0].rules.filter((r) => r.alert === n);
  assert.equal(byName('OutriggerTargetDown').length, 0);
  const [errors] = byName('OutriggerHighErrorRate');
  assert.match(errors.expr, /\) > 0\.2\n/);
  assert.equal(errors.for, '15m');
  assert.match(byName('OutriggerCertificateExpiring')[0].expr, /< 30 \* 86400$/);
  assert.equal(byName('OutriggerNoHealthyBackend')[0].labels.severity, 'warning');
  assert.match(byName('OutriggerNoHealthyBackend')[0].expr, /outrigger_backends\{cluster="eu1", namespace="edge", state="healthy"\}/);
  assert.equal(byName('OutriggerNoHealthyBackend')[0].annotations.runbook_url, undefined, 'no runbook_url without runbookBaseUrl');
});

// ---- autoscaling ----------------------------------------------------------------------------------
test('HPA: autoscaling/v2 on CPU and in-flight per pod, targeting the Deployment, which leaves replicas to it', () => {
  const docs = chart('autoscaling');
  const [hpa] = kind(docs, 'HorizontalPodAutoscaler');
  const [deployment] = kind(docs, 'Deployment');
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.equal(hpa.spec.minReplicas, 3);
  assert.equal(hpa.spec.maxReplicas, 12);
  assert.deepEqual(hpa.spec.metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
    { type: 'Pods', pods: { metric: { name: 'outrigger_upstream_in_flight' }, target: { type: 'AverageValue', averageValue: '80' } } },
  ]);
  assert.ok(registered.has(hpa.spec.metrics[1].pods.metric.name), 'the custom metric is one Outrigger exports');
  assert.equal(hpa.spec.behavior.scaleDown.policies[0].value, 1, 'one pod at a time by default');
  assert.equal('replicas' in deployment.spec, false, 'replicaCount: 7 is ignored with the HPA');
  const [pdb] = kind(docs, 'PodDisruptionBudget');
  assert.ok(pdb.spec.minAvailable < hpa.spec.minReplicas, 'a pod stays evictable at minReplicas');
  const cpuRequest = deployment.spec.template.spec.containers[0].resources.requests.cpu;
  assert.equal(cpuRequest, '250m', 'CPU utilization is measured against the request');
  for (const name of ['default', 'monitoring', 'tcp']) {
    assert.equal(kind(chart(name), 'HorizontalPodAutoscaler').length, 0, name);
    assert.equal(typeof kind(chart(name), 'Deployment')[0].spec.replicas, 'number', name);
  }
});

test('HPA: CPU only, or the custom metric only', () => {
  const cpu = kind(render(['--set', 'autoscaling.enabled=true']), 'HorizontalPodAutoscaler')[0];
  assert.deepEqual(cpu.spec.metrics.map((m) => m.type), ['Resource']);
  const pods = kind(render(['--set', 'autoscaling.enabled=true', '--set', 'autoscaling.targetCPUUtilizationPercentage=null',
    '--set', 'autoscaling.podsMetric.enabled=true']), 'HorizontalPodAutoscaler')[0];
  assert.deepEqual(pods.spec.metrics.map((m) => m.type), ['Pods']);
});
