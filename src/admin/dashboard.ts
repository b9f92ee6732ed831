/**
 * The admin dashboard: one self-contained page (no external assets) that
 * polls /api/status every two seconds. Drain/enable buttons use the bearer
 * token typed into the page (kept in sessionStorage only).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outrigger</title>
<style>
  :root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --muted:#57606a; --line:#d0d7de; font-family: system-ui, sans-serif; }
  body { margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color:#1f2328; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  .sub { color: var(--muted); margin-bottom: 1rem; }
  .pill { display:inline-block; padding:.1rem .55rem; border-radius:1rem; font-size:.85rem; font-weight:600; color:#fff; }
  .healthy, .ready { background: var(--ok); } .unhealthy, .not-ready, .unknown { background: var(--bad); }
  .ejected { background: var(--warn); } .drained { background: var(--muted); }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
  th { font-size: .8rem; text-transform: uppercase; color: var(--muted); }
  td.num, th.num { text-align: right; }
  button { font: inherit; padding: .15rem .6rem; cursor: pointer; }
  .reasons { color: var(--bad); margin: .5rem 0; }
  .bar { display:flex; gap:1rem; align-items:center; flex-wrap:wrap; }
  input { font: inherit; padding: .15rem .4rem; width: 16rem; }
  #err { color: var(--bad); }
</style>
</head>
<body>
<h1>Outrigger <span id="ready" class="pill">…</span></h1>
<div class="sub" id="summary">loading…</div>
<div class="reasons" id="reasons"></div>
<div class="bar">
  <label>Admin token <input id="token" type="password" autocomplete="off" placeholder="for drain / enable"></label>
  <span id="err"></span>
</div>
<table>
  <thead><tr><th>Backend</th><th>Protocol</th><th>State</th><th class="num">Weight</th><th class="num">In flight (requests, streams)</th><th class="num">Requests</th><th class="num">Failures</th><th class="num">Latency (ms)</th><th>Last probe</th><th></th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<p class="sub">Also: <a href="/metrics">/metrics</a> · <a href="/api/status">/api/status</a> · <a href="/readyz">/readyz</a> · <a href="/healthz">/healthz</a></p>
<script>
const $ = (id) => document.getElementById(id);
const token = $('token');
token.value = sessionStorage.getItem('outrigger-token') || '';
token.addEventListener('change', () => sessionStorage.setItem('outrigger-token', token.value));
function cell(row, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; row.appendChild(td); return td; }
function pill(text) { const s = document.createElement('span'); s.className = 'pill ' + text.replace(' ', '-'); s.textContent = text; return s; }
async function act(id, action) {
  $('err').textContent = '';
  const r = await fetch('/api/backends/' + encodeURIComponent(id) + '/' + action, { method: 'POST', headers: { authorization: 'Bearer ' + token.value } });
  if (!r.ok) $('err').textContent = action + ' ' + id + ': ' + r.status + ' ' + ((await r.json().catch(() => ({}))).error || '');
  refresh();
}
async function refresh() {
  try {
    const s = await (await fetch('/api/status', { cache: 'no-store' })).json();
    const ready = $('ready'); ready.className = 'pill ' + (s.ready ? 'ready' : 'not-ready'); ready.textContent = s.ready ? 'ready' : 'not ready';
    const eligible = s.backends.filter((b) => b.eligible).length;
    $('summary').textContent = eligible + ' of ' + s.backends.length + ' backends eligible · v' + s.version + ' · ' + s.config.mode + ' mode · ' + s.config.algorithm + ' · listening on ' + s.config.proxyHost + ':' + s.config.proxyPort + ' · up ' + s.uptimeSeconds + ' s';
    $('reasons').textContent = s.readyReasons.join('; ');
    const rows = $('rows'); rows.textContent = '';
    for (const b of s.backends) {
      const tr = document.createElement('tr');
      cell(tr, b.url);
      cell(tr, b.protocol);
      cell(tr, '').appendChild(pill(b.state));
      cell(tr, b.effectiveWeight === b.weight ? String(b.weight) : b.effectiveWeight + ' / ' + b.weight, 'num');
      cell(tr, String(b.inFlight), 'num'); cell(tr, String(b.requests), 'num'); cell(tr, String(b.failures), 'num');
      cell(tr, b.latencyMs ? b.latencyMs.toFixed(1) : '–', 'num');
      cell(tr, b.lastProbe ? (b.lastProbe.ok ? 'ok' : 'failed: ' + (b.lastProbe.error || '')) + ' · ' + new Date(b.lastProbe.at).toLocaleTimeString() : '–');
      const btn = document.createElement('button');
      const drained = b.state === 'drained';
      btn.textContent = drained ? 'enable' : 'drain';
      btn.onclick = () => act(b.id, drained ? 'enable' : 'drain');
      cell(tr, '').appendChild(btn);
      rows.appendChild(tr);
    }
  } catch (e) { $('summary').textContent = 'cannot reach /api/status: ' + e; }
}
refresh(); setInterval(refresh, 2000);
</script>
</body>
</html>
`;
