/**
 * The admin dashboard (`GET /`): one self-contained page, no external assets.
 * Live charts of the history (/api/history) and the backend table with
 * drain/enable (/api/status). Built once, when the module loads.
 */
import { DASHBOARD_CSS } from './dashboard-style.js';
import { CHARTS_JS } from './dashboard-charts.js';
import { CLIENT_JS } from './dashboard-client.js';

const LOGO = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 15h18l-3 5H6z" fill="#2563eb"/><path d="M12 3v10M12 4l6 8h-6" stroke="#2563eb" stroke-width="1.6" fill="none" stroke-linejoin="round"/><path d="M2 12h6" stroke="#94a3b8" stroke-width="1.6"/></svg>';

function chartCard(id: string, title: string, note = '', extra = ''): string {
  return `<article class="card${extra}"><h2>${title}<small id="${id}-note">${note}</small></h2><div class="chart" id="ch-${id}"></div><div class="legend" id="lg-${id}"></div></article>`;
}

function kpiCard(id: string, label: string): string {
  return `<div class="kpi"><div class="label">${label}</div><div class="value" id="k-${id}">–</div></div>`;
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outrigger</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header><div class="wrap">
  <h1>${LOGO} Outrigger <span id="ready" class="pill unknown">…</span></h1>
  <div id="summary">loading…</div>
</div></header>
<main class="wrap">
<div class="reasons" id="reasons"></div>
<section class="kpis">
  ${kpiCard('rate', 'Requests')}${kpiCard('errors', 'Error answers')}${kpiCard('p50', 'Latency p50')}${kpiCard('p99', 'Latency p99')}${kpiCard('inflight', 'In flight')}${kpiCard('budget', 'Retry budget used')}
</section>
<section class="grid" aria-label="charts">
  ${chartCard('rate', 'Request rate', 'req/s')}
  ${chartCard('latency', 'Latency', 'p50 / p99, ms')}
  ${chartCard('errors', 'Errors by kind', 'per second')}
  ${chartCard('retries', 'Retries', 'budget –')}
  ${chartCard('inflight', 'In flight', 'requests')}
  <article class="card"><h2>Backend states<small id="window"></small></h2><div class="timeline" id="ch-states"></div><div class="legend" id="lg-states"></div></article>
</section>
<section class="card backends">
  <div class="head"><h2>Backends</h2>
    <label class="token">Admin token <input id="token" type="password" autocomplete="off" placeholder="for drain / enable"></label>
    <span id="err" role="status"></span>
  </div>
  <table>
    <thead><tr><th>Backend</th><th>Protocol</th><th>State</th><th class="num">Weight</th><th class="num">In flight</th><th class="num">Requests</th><th class="num">Failures</th><th class="num">Latency (ms)</th><th>Last probe</th><th></th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
</section>
<footer>JSON: <a href="/api/status">/api/status</a> · <a href="/api/history">/api/history</a> · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <a href="/healthz">/healthz</a></footer>
</main>
<script>${CHARTS_JS}${CLIENT_JS}</script>
</body>
</html>
`;
