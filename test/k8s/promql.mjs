// PromQL helpers for test:k8s: the rule groups of a rendered PrometheusRule as a plain Prometheus
// rules file, the dashboard's expressions as recording rules (so that promtool parses each one),
// and the metric names an expression uses.
//
//   node test/k8s/promql.mjs <rendered chart file> <out dir>
// writes <out dir>/outrigger.rules.yaml and <out dir>/dashboard.rules.yaml.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const dashboardFile = fileURLToPath(new URL('../../helm/outrigger/dashboards/outrigger.json', import.meta.url));

/** Every panel of a dashboard, rows' nested panels included. */
export function allPanels(dashboard) {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** [where, expr] for every query of the dashboard's panels. */
export function dashboardExpressions(dashboard) {
  return allPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => [`panel ${p.id} "${p.title}" ${t.refId}`, t.expr]));
}

// Grafana's variables, replaced by values PromQL accepts (the check is about syntax).
const GRAFANA_VARIABLES = { __rate_interval: '5m', __interval: '1m', __range: '1h', namespace: 'edge', job: 'outrigger', pod: '.+', backend: '.+' };
export function substituteGrafanaVariables(expr) {
  return expr.replace(/\$\{?(\w+)\}?/g, (m, name) => {
    if (!(name in GRAFANA_VARIABLES)) throw new Error(`unknown Grafana variable ${m} in ${expr}`);
    return GRAFANA_VARIABLES[name];
  });
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool',
  'offset', 'inf', 'nan', 'atan2']);

/**
 * The metric names in a PromQL expression, each with the label matchers written after it. A small
 * tokenizer rather than a parser: string literals, label lists after by/without/on/ignoring/
 * group_left/group_right, range and subquery brackets and function names are not metric names.
 */
export function metricSelectors(expr) {
  const out = [];
  let s = expr;
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (m) => `"${'_'.repeat(Math.max(0, m.length - 2))}"`); // keep offsets
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, (m, k) => k + ' '.repeat(m.length - k.length));
  s = s.replace(/\[[^\]]*\]/g, (m) => ' '.repeat(m.length));
  const braces = [];
  for (const m of s.matchAll(/\{[^}]*\}/g)) braces.push([m.index, m.index + m[0].length]);
  const inBraces = (i) => braces.some(([a, b]) => i > a && i < b);
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    const end = m.index + name.length;
    if (inBraces(m.index) || KEYWORDS.has(name.toLowerCase())) continue;
    if (m.index > 0 && /[0-9.]/.test(s[m.index - 1])) continue; // 5m, 1e3, 0.5
    const rest = s.slice(end);
    if (/^\s*(\(|(by|without)\b)/i.test(rest)) continue; // a function call, an aggregation
    const brace = rest.match(/^\s*\{/) ? braces.find(([a]) => a >= end) : undefined;
    out.push({ name, matchers: brace ? expr.slice(brace[0] + 1, brace[1] - 1) : '' });
  }
  return out;
}

/** The PrometheusRule objects' groups, from a rendered chart file. */
export function ruleGroups(renderedFile) {
  const docs = parseAllDocuments(readFileSync(renderedFile, 'utf8')).map((d) => d.toJS()).filter(Boolean);
  return docs.filter((d) => d.kind === 'PrometheusRule').flatMap((d) => d.spec.groups);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [rendered, outDir] = process.argv.slice(2);
  const groups = ruleGroups(rendered);
  if (groups.length === 0) throw new Error(`no PrometheusRule in ${rendered}`);
  writeFileSync(join(outDir, 'outrigger.rules.yaml'), stringify({ groups }));
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
  const rules = dashboardExpressions(dashboard).map(([, expr], i) => ({ record: `dashboard:expr_${i}`, expr: substituteGrafanaVariables(expr) }));
  const variables = dashboard.templating.list.filter((v) => v.type === 'query')
    .map((v) => ({ record: `dashboard:variable_${v.name}`, expr: substituteGrafanaVariables(v.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1')) }));
  writeFileSync(join(outDir, 'dashboard.rules.yaml'), stringify({ groups: [{ name: 'dashboard', rules: [...rules, ...variables] }] }));
  console.log(`test:k8s: ${groups.reduce((n, g) => n + g.rules.length, 0)} alert rules, ${rules.length} dashboard expressions, ${variables.length} variable queries extracted`);
}
