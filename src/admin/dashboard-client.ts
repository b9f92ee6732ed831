/**
 * The dashboard's behaviour, as browser script text: polls /api/status (the
 * table, every 2 s) and /api/history (the charts, once per sample, asking only
 * for the samples it lacks), and sends
 * drain/enable with the bearer token typed into the page (kept in
 * sessionStorage only). Uses the functions of dashboard-charts.ts.
 * Written without backticks, `${` or backslashes, since it lives in a template literal.
 */
export const CLIENT_JS = `
const $ = (id) => document.getElementById(id);
const SERIES_COLORS = ['#2563eb', '#db2777', '#0891b2', '#7c3aed', '#ea580c', '#65a30d', '#ca8a04', '#0d9488'];
const ERROR_COLORS = ['#dc2626', '#d97706', '#9333ea', '#0891b2', '#be185d', '#4f46e5', '#ea580c', '#0d9488', '#a16207', '#475569'];
const MAX_BACKEND_LINES = 8;
const token = $('token');
token.value = sessionStorage.getItem('outrigger-token') || '';
token.addEventListener('change', () => sessionStorage.setItem('outrigger-token', token.value));
let history = null;
const fg = () => getComputedStyle(document.documentElement).getPropertyValue('--fg').trim() || '#0f172a';

function cell(row, label, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  td.dataset.label = label;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function pill(text) {
  const s = document.createElement('span');
  s.className = 'pill ' + text.replace(' ', '-');
  s.textContent = text;
  return s;
}
function kpi(id, value, unit) {
  const el = $(id);
  el.textContent = value;
  if (unit) { const u = document.createElement('small'); u.textContent = unit; el.appendChild(u); }
}
async function act(id, action) {
  $('err').textContent = '';
  try {
    const r = await fetch('/api/backends/' + encodeURIComponent(id) + '/' + action, { method: 'POST', headers: { authorization: 'Bearer ' + token.value } });
    if (!r.ok) $('err').textContent = action + ' ' + id + ': ' + r.status + ' ' + ((await r.json().catch(() => ({}))).error || '');
  } catch (e) { $('err').textContent = action + ' ' + id + ': ' + e; }
  refreshStatus();
}
function renderStatus(s) {
  const ready = $('ready');
  ready.className = 'pill ' + (s.ready ? 'ready' : 'not-ready');
  ready.textContent = s.ready ? 'ready' : 'not ready';
  const eligible = s.backends.filter((b) => b.eligible).length;
  $('summary').textContent = eligible + ' of ' + s.backends.length + ' backends eligible · v' + s.version + ' · ' + s.config.mode + ' · ' + s.config.algorithm + ' · ' + s.config.proxyHost + ':' + s.config.proxyPort + ' · up ' + s.uptimeSeconds + ' s';
  $('reasons').textContent = s.readyReasons.join('; ');
  kpi('k-inflight', String(s.backends.reduce((n, b) => n + b.inFlight, 0)));
  const rows = $('rows');
  rows.textContent = '';
  for (const b of s.backends) {
    const tr = document.createElement('tr');
    tr.dataset.backend = b.id;
    cell(tr, 'Backend', b.url, 'id');
    cell(tr, 'Protocol', b.protocol);
    cell(tr, 'State', '').appendChild(pill(b.state));
    cell(tr, 'Weight', b.effectiveWeight === b.weight ? String(b.weight) : b.effectiveWeight + ' / ' + b.weight, 'num');
    cell(tr, 'In flight', String(b.inFlight), 'num');
    cell(tr, 'Requests', String(b.requests), 'num');
    cell(tr, 'Failures', String(b.failures), 'num');
    cell(tr, 'Latency (ms)', b.latencyMs ? b.latencyMs.toFixed(1) : '–', 'num');
    cell(tr, 'Last probe', b.lastProbe ? (b.lastProbe.ok ? 'ok' : 'failed: ' + (b.lastProbe.error || '')) + ' · ' + new Date(b.lastProbe.at).toLocaleTimeString() : '–', 'probe');
    const btn = document.createElement('button');
    const drained = b.state === 'drained';
    btn.textContent = drained ? 'enable' : 'drain';
    btn.onclick = () => act(b.id, drained ? 'enable' : 'drain');
    cell(tr, '', '', 'action').appendChild(btn);
    rows.appendChild(tr);
  }
}
async function refreshStatus() {
  try {
    renderStatus(await (await fetch('/api/status', { cache: 'no-store' })).json());
  } catch (e) { $('summary').textContent = 'cannot reach /api/status: ' + e; }
}
function perBackend(h, pick) {
  return h.backends.slice(0, MAX_BACKEND_LINES).map((b, i) => ({ name: b.id, color: SERIES_COLORS[i % SERIES_COLORS.length], values: pick(b) }));
}
function renderHistory(h) {
  const span = h.slots * h.intervalMs;
  $('window').textContent = 'last ' + (span < 120000 ? Math.round(span / 1000) + ' s' : Math.round(span / 60000) + ' min') + ' · a sample every ' + h.intervalMs / 1000 + ' s';
  const last = (values) => lastValue(values);
  const errorSeries = [];
  const sumErrors = h.t.map(() => 0);
  for (const source of ['proxy', 'upstream']) {
    for (const kind of Object.keys(h.errorsPerSecond[source])) {
      const values = h.errorsPerSecond[source][kind];
      values.forEach((v, i) => { if (source === 'proxy') sumErrors[i] += v || 0; });
      if (values.some((v) => v > 0)) errorSeries.push({ name: (source === 'upstream' ? 'backend ' : '') + kind, color: ERROR_COLORS[errorSeries.length % ERROR_COLORS.length], values: values });
    }
  }
  kpi('k-rate', fmtNum(last(h.requestsPerSecond)), '/s');
  kpi('k-errors', fmtNum(h.t.length ? sumErrors[sumErrors.length - 1] : null), '/s');
  kpi('k-p50', fmtNum(last(h.latencyMs.p50)), 'ms');
  kpi('k-p99', fmtNum(last(h.latencyMs.p99)), 'ms');
  kpi('k-budget', fmtNum(last(h.retryBudgetUsedPercent)), '%');
  $('retries-note').textContent = 'budget ' + fmtNum(last(h.retryBudgetUsedPercent)) + ' % used';
  const more = h.backends.length > MAX_BACKEND_LINES ? ' (first ' + MAX_BACKEND_LINES + ' of ' + h.backends.length + ')' : '';
  lineChart($('ch-rate'), $('lg-rate'), h, { id: 'rate', label: 'request rate', unit: '/s', series: [{ name: 'clients', color: fg(), values: h.requestsPerSecond, width: 2, area: true }].concat(perBackend(h, (b) => b.requestsPerSecond)) });
  $('rate-note').textContent = 'req/s' + more;
  lineChart($('ch-latency'), $('lg-latency'), h, { id: 'latency', label: 'latency', unit: ' ms', series: [
    { name: 'p50', color: '#2563eb', values: h.latencyMs.p50, width: 2, area: true },
    { name: 'p99', color: '#db2777', values: h.latencyMs.p99, width: 2 }] });
  lineChart($('ch-errors'), $('lg-errors'), h, { id: 'errors', label: 'errors by kind', unit: '/s', series: [{ name: 'error answers', color: fg(), values: sumErrors, width: 2, area: true }].concat(errorSeries) });
  lineChart($('ch-retries'), $('lg-retries'), h, { id: 'retries', label: 'retries', unit: '/s', series: [
    { name: 'retries', color: '#7c3aed', values: h.retriesPerSecond, width: 2, area: true },
    { name: 'refused by budget', color: '#dc2626', values: h.retryBudgetExhaustedPerSecond, width: 2 }] });
  lineChart($('ch-inflight'), $('lg-inflight'), h, { id: 'inflight', label: 'in flight', unit: '', integer: true, series: [{ name: 'total', color: fg(), values: h.inFlight, width: 2, area: true }].concat(perBackend(h, (b) => b.inFlight)) });
  timeline($('ch-states'), $('lg-states'), h);
}
/** Appends the samples of a ?since= answer to what the page holds, keeping at most slots samples. */
function mergeSeries(held, fresh, n, drop, fill) {
  if (Array.isArray(fresh)) return (held || new Array(n).fill(fill)).slice(drop).concat(fresh);
  if (typeof fresh !== 'object' || fresh === null) return fresh;
  const out = {};
  for (const k in fresh) out[k] = mergeSeries(held ? held[k] : undefined, fresh[k], n, drop, fill);
  return out;
}
function mergeHistory(held, fresh) {
  if (!held || held.intervalMs !== fresh.intervalMs || held.slots !== fresh.slots) return fresh;
  const n = held.t.length;
  const drop = Math.max(0, n + fresh.t.length - fresh.slots);
  const out = { intervalMs: fresh.intervalMs, slots: fresh.slots };
  for (const k in fresh) {
    if (k === 'intervalMs' || k === 'slots' || k === 'backends') continue;
    out[k] = mergeSeries(held[k], fresh[k], n, drop, k === 'errorsPerSecond' ? 0 : null);
  }
  // Backends by id: a new one has no earlier samples; one that left the set leaves the page.
  out.backends = fresh.backends.map((b) => mergeSeries(held.backends.find((x) => x.id === b.id), b, n, drop, null));
  return out;
}
async function refreshHistory() {
  let next = 5000;
  try {
    const since = history && history.t.length ? '?since=' + history.t[history.t.length - 1] : '';
    history = mergeHistory(history, await (await fetch('/api/history' + since, { cache: 'no-store' })).json());
    renderHistory(history);
    next = Math.min(10000, Math.max(1000, history.intervalMs));
  } catch (e) { $('window').textContent = 'cannot reach /api/history: ' + e; }
  setTimeout(refreshHistory, next);
}
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { if (history) renderHistory(history); }, 150);
});
refreshStatus();
setInterval(refreshStatus, 2000);
refreshHistory();
`;
