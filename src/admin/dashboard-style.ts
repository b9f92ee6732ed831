/** The dashboard's stylesheet: light and dark, a grid of chart cards that folds to one column on a phone. */
export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --bg:#f5f7fa; --card:#fff; --fg:#0f172a; --muted:#64748b; --line:#e2e8f0; --grid:#eef2f6;
  --ok:#16a34a; --bad:#dc2626; --warn:#d97706; --off:#64748b; --unknown:#cbd5e1; --accent:#2563eb;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; }
@media (prefers-color-scheme: dark) { :root { --bg:#0b1120; --card:#111827; --fg:#e5e7eb; --muted:#94a3b8; --line:#1f2937; --grid:#1a2332; --unknown:#475569; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { background: var(--card); border-bottom: 1px solid var(--line); }
.wrap { max-width: 80rem; margin: 0 auto; padding: 0 1.25rem; }
header .wrap { display: flex; align-items: center; gap: .75rem 1.25rem; flex-wrap: wrap; padding-top: .8rem; padding-bottom: .8rem; }
h1 { font-size: 1.15rem; margin: 0; display: flex; align-items: center; gap: .5rem; letter-spacing: -.01em; }
h1 svg { width: 1.4rem; height: 1.4rem; }
#summary { color: var(--muted); font-size: .85rem; min-width: 0; overflow-wrap: anywhere; }
main.wrap { padding-top: 1rem; padding-bottom: 2rem; }
.pill { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-size: .75rem; font-weight: 600; color: #fff; white-space: nowrap; }
.healthy, .ready { background: var(--ok); } .unhealthy, .not-ready { background: var(--bad); }
.ejected { background: var(--warn); } .drained { background: var(--off); } .unknown { background: var(--unknown); color: var(--fg); }
.reasons { color: var(--bad); margin: 0 0 .75rem; font-weight: 500; }
.reasons:empty { display: none; }
.kpis { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: .75rem; margin-bottom: .9rem; }
.kpi, .card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; min-width: 0; }
.kpi { padding: .65rem .85rem; }
.kpi .label { color: var(--muted); font-size: .72rem; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: .15rem; white-space: nowrap; }
.kpi .value small { font-size: .75rem; color: var(--muted); font-weight: 500; margin-left: .2rem; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .9rem; }
.card { padding: .8rem .9rem .7rem; position: relative; }
.card h2 { font-size: .9rem; margin: 0 0 .4rem; font-weight: 600; display: flex; justify-content: space-between; gap: .5rem; }
.card h2 small { color: var(--muted); font-weight: 500; }
.chart { height: 170px; position: relative; }
.chart svg { display: block; width: 100%; height: 100%; overflow: visible; }
.chart .empty { position: absolute; inset: 0; display: grid; place-items: center; color: var(--muted); font-size: .85rem; }
svg text { fill: var(--muted); font-size: 10px; font-variant-numeric: tabular-nums; }
svg .gridline { stroke: var(--grid); stroke-width: 1; }
svg .axis { stroke: var(--line); }
svg .cursor { stroke: var(--muted); stroke-dasharray: 3 3; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem .9rem; margin-top: .4rem; font-size: .78rem; color: var(--muted); }
.legend span { display: inline-flex; align-items: center; gap: .3rem; min-width: 0; }
.legend i { width: .7rem; height: .22rem; border-radius: .15rem; display: inline-block; flex: none; }
.legend b { color: var(--fg); font-weight: 600; font-variant-numeric: tabular-nums; }
.tip { position: absolute; pointer-events: none; background: var(--card); border: 1px solid var(--line); border-radius: .4rem; padding: .35rem .5rem;
  font-size: .75rem; box-shadow: 0 4px 14px rgb(0 0 0 / .12); white-space: nowrap; z-index: 2; display: none; }
.tip div { display: flex; gap: .4rem; align-items: center; } .tip i { width: .5rem; height: .5rem; border-radius: 50%; display: inline-block; }
.wide { grid-column: 1 / -1; }
.tl-row, .tl-axis { display: grid; grid-template-columns: minmax(0, 10rem) minmax(0, 1fr); gap: .7rem; align-items: center; }
.tl-row { margin: .35rem 0; }
.tl-name { font-size: .78rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tl-bar svg { display: block; width: 100%; height: 16px; }
.tl-axis { font-size: .7rem; color: var(--muted); margin-top: .2rem; }
.backends { margin-top: .9rem; }
.backends .head { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: .4rem; }
.backends h2 { margin: 0; }
label.token { display: flex; align-items: center; gap: .4rem; color: var(--muted); font-size: .8rem; }
input { font: inherit; padding: .3rem .5rem; width: 14rem; max-width: 100%; border: 1px solid var(--line); border-radius: .35rem; background: var(--bg); color: var(--fg); }
#err { color: var(--bad); font-size: .8rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem .55rem; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
th { font-size: .7rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
td.id { font-weight: 600; overflow-wrap: anywhere; }
td.probe { color: var(--muted); font-size: .8rem; }
button { font: inherit; font-size: .8rem; padding: .25rem .7rem; cursor: pointer; border-radius: .35rem; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
button:hover { border-color: var(--accent); color: var(--accent); }
footer { color: var(--muted); font-size: .8rem; margin-top: 1rem; }
a { color: var(--accent); }
@media (max-width: 1000px) { .kpis { grid-template-columns: repeat(3, minmax(0, 1fr)); } }
@media (max-width: 760px) {
  .wrap { padding: 0 .75rem; }
  .grid { grid-template-columns: minmax(0, 1fr); }
  .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .5rem; }
  .kpi .value { font-size: 1.2rem; }
  .chart { height: 150px; }
  thead { display: none; }
  table, tbody { display: block; width: 100%; }
  tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); column-gap: 1.25rem; border-bottom: 1px solid var(--line); padding: .5rem 0; }
  td { border: 0; padding: .15rem 0; display: flex; justify-content: space-between; align-items: center; gap: .5rem; text-align: right; min-width: 0; }
  td::before { content: attr(data-label); color: var(--muted); font-size: .75rem; text-align: left; }
  td.id, td.probe { grid-column: 1 / -1; }
  td.id { font-size: .95rem; }
  td.id::before, td.action::before { content: none; }
  td.action { grid-column: 2; justify-content: flex-end; }
  .tl-row, .tl-axis { grid-template-columns: minmax(0, 1fr); gap: .15rem; }
  .tl-axis span { display: none; }
}
`;
