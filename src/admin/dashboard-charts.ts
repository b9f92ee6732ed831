/**
 * The dashboard's chart drawing, as browser script text (the page inlines it):
 * line charts and the backend state timeline in hand-made SVG, with a hover
 * read-out. No library; one function per chart kind.
 * Written without backticks, `${` or backslashes, since it lives in a template literal.
 */
export const CHARTS_JS = `
const SVGNS = 'http://www.w3.org/2000/svg';
const STATE_COLORS = { healthy: 'var(--ok)', unhealthy: 'var(--bad)', ejected: 'var(--warn)', drained: 'var(--off)', unknown: 'var(--unknown)' };
function svgEl(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  // Colours go through style so that they may name CSS variables (the theme's state colours).
  for (const k in attrs) if (k === 'fill' || k === 'stroke') e.style[k] = attrs[k]; else e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  const n = v / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * p;
}
function trimZeros(s) {
  if (s.indexOf('.') < 0) return s;
  while (s.endsWith('0')) s = s.slice(0, -1);
  return s.endsWith('.') ? s.slice(0, -1) : s;
}
function fmtNum(v) {
  if (v == null || !isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 10000) return (v / 1000).toFixed(0) + 'k';
  if (a >= 1000) return trimZeros((v / 1000).toFixed(1)) + 'k';
  if (a >= 100 || a === 0) return v.toFixed(0);
  return trimZeros(v.toFixed(a >= 10 ? 1 : a >= 1 ? 2 : 3));
}
/** Clock labels carry seconds when the window is short enough for minutes to repeat. */
function shortWindow(dom) { return dom[1] - dom[0] < 10 * 60000; }
function fmtClock(ms, seconds) {
  const d = new Date(ms);
  const two = (n) => (n < 10 ? '0' : '') + n;
  return two(d.getHours()) + ':' + two(d.getMinutes()) + (seconds ? ':' + two(d.getSeconds()) : '');
}
/** The time window drawn: the samples held, and at least a dozen intervals. */
function xDomain(h) {
  const last = h.t[h.t.length - 1];
  return [Math.min(h.t[0] - h.intervalMs, last - 12 * h.intervalMs), last];
}
function lastValue(values) {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
  return null;
}
function emptyNote(box, text) {
  const d = document.createElement('div');
  d.className = 'empty';
  d.textContent = text;
  box.appendChild(d);
}
function frame(box) {
  box.textContent = '';
  const W = Math.max(box.clientWidth, 160);
  const H = Math.max(box.clientHeight, 100);
  return { W: W, H: H, m: { l: 38, r: 10, t: 8, b: 20 } };
}
/** opts: { id, label, unit, integer, series: [{ name, color, values, width, dash, area }] } over h.t. */
function lineChart(box, legend, h, opts) {
  const f = frame(box);
  const W = f.W, H = f.H, m = f.m;
  const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label, 'data-chart': opts.id }, box);
  legend.textContent = '';
  if (h.t.length === 0) { emptyNote(box, 'waiting for the first sample…'); return; }
  let max = 0;
  for (const s of opts.series) for (const v of s.values) if (v != null && v > max) max = v;
  // Counts (in flight) get whole-number gridlines.
  max = opts.integer ? Math.max(4, Math.ceil((max * 1.08) / 4) * 4) : niceMax(max * 1.08);
  const dom = xDomain(h);
  const X = (ms) => m.l + ((ms - dom[0]) / (dom[1] - dom[0])) * (W - m.l - m.r);
  const Y = (v) => H - m.b - (v / max) * (H - m.t - m.b);
  for (let i = 0; i <= 4; i++) {
    const y = Y((max * i) / 4);
    svgEl('line', { class: i === 0 ? 'axis' : 'gridline', x1: m.l, x2: W - m.r, y1: y, y2: y }, svg);
    svgEl('text', { x: m.l - 6, y: y + 3, 'text-anchor': 'end' }, svg).textContent = fmtNum((max * i) / 4);
  }
  const ticks = Math.max(2, Math.min(6, Math.floor((W - m.l) / (shortWindow(dom) ? 100 : 80))));
  for (let i = 0; i <= ticks; i++) {
    const ms = dom[0] + ((dom[1] - dom[0]) * i) / ticks;
    svgEl('text', { x: X(ms), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' }, svg).textContent = fmtClock(ms, shortWindow(dom));
  }
  for (const s of opts.series) {
    const segments = [];
    let seg = null;
    for (let i = 0; i < h.t.length; i++) {
      const v = s.values[i];
      if (v == null) { seg = null; continue; }
      if (seg === null) segments.push((seg = []));
      seg.push([X(h.t[i]), Y(v)]);
    }
    const points = segments.reduce((n, sg) => n + sg.length, 0);
    const line = segments.map((sg) => sg.map((p, i) => (i === 0 ? 'M' : 'L') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('')).join('');
    if (s.area && line) {
      const base = Y(0).toFixed(1);
      const area = segments.map((sg) => 'M' + sg[0][0].toFixed(1) + ' ' + base + sg.map((p) => 'L' + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('') + 'L' + sg[sg.length - 1][0].toFixed(1) + ' ' + base + 'Z').join('');
      svgEl('path', { d: area, fill: s.color, 'fill-opacity': 0.1, stroke: 'none' }, svg);
    }
    svgEl('path', { d: line, fill: 'none', stroke: s.color, 'stroke-width': s.width || 1.5, 'stroke-dasharray': s.dash || 'none', 'stroke-linejoin': 'round', 'stroke-linecap': 'round', 'data-series': s.name, 'data-points': points }, svg);
    const tail = segments.length ? segments[segments.length - 1] : null;
    if (tail) svgEl('circle', { cx: tail[tail.length - 1][0], cy: tail[tail.length - 1][1], r: 2.5, fill: s.color }, svg);
    const item = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = s.color;
    const val = document.createElement('b');
    val.textContent = fmtNum(lastValue(s.values)) + (opts.unit || '');
    item.append(sw, s.name + ' ', val);
    legend.appendChild(item);
  }
  hoverReadout(box, svg, h, opts, X, dom, m, W, H);
}
function hoverReadout(box, svg, h, opts, X, dom, m, W, H) {
  const cursor = svgEl('line', { class: 'cursor', y1: m.t, y2: H - m.b, x1: -10, x2: -10, visibility: 'hidden' }, svg);
  const tip = document.createElement('div');
  tip.className = 'tip';
  box.appendChild(tip);
  svg.addEventListener('pointermove', (ev) => {
    const r = svg.getBoundingClientRect();
    const ms = dom[0] + ((ev.clientX - r.left) / r.width * W - m.l) / (W - m.l - m.r) * (dom[1] - dom[0]);
    let best = 0;
    for (let i = 1; i < h.t.length; i++) if (Math.abs(h.t[i] - ms) < Math.abs(h.t[best] - ms)) best = i;
    const x = X(h.t[best]);
    cursor.setAttribute('x1', x); cursor.setAttribute('x2', x); cursor.setAttribute('visibility', 'visible');
    tip.textContent = '';
    const head = document.createElement('div');
    head.textContent = fmtClock(h.t[best], true);
    tip.appendChild(head);
    for (const s of opts.series) {
      const row = document.createElement('div');
      const dot = document.createElement('i');
      dot.style.background = s.color;
      row.append(dot, s.name + ': ' + fmtNum(s.values[best]) + (opts.unit || ''));
      tip.appendChild(row);
    }
    tip.style.display = 'block';
    const left = (x / W) * r.width;
    tip.style.left = Math.max(0, Math.min(left + 12, r.width - tip.offsetWidth)) + 'px';
    tip.style.top = '4px';
  });
  svg.addEventListener('pointerleave', () => { tip.style.display = 'none'; cursor.setAttribute('visibility', 'hidden'); });
}
/** One bar per backend: a run of rectangles coloured by the worst state of each interval. */
function timeline(box, legend, h) {
  box.textContent = '';
  legend.textContent = '';
  if (h.t.length === 0 || h.backends.length === 0) { emptyNote(box, h.t.length === 0 ? 'waiting for the first sample…' : 'no backends'); return; }
  const dom = xDomain(h);
  for (const b of h.backends) {
    const row = document.createElement('div');
    row.className = 'tl-row';
    const name = document.createElement('div');
    name.className = 'tl-name';
    name.textContent = b.id;
    name.title = b.id;
    const bar = document.createElement('div');
    bar.className = 'tl-bar';
    row.append(name, bar);
    box.appendChild(row);
    const W = Math.max(bar.clientWidth, 100);
    const X = (ms) => ((ms - dom[0]) / (dom[1] - dom[0])) * W;
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' 16', preserveAspectRatio: 'none', 'data-backend': b.id }, bar);
    svgEl('rect', { x: 0, y: 0, width: W, height: 16, rx: 3, fill: 'var(--grid)' }, svg);
    let i = 0;
    while (i < h.t.length) {
      const state = b.state[i];
      let j = i;
      while (j + 1 < h.t.length && b.state[j + 1] === state) j++;
      if (state != null) {
        const x0 = Math.max(0, X(h.t[i] - h.intervalMs));
        svgEl('rect', { x: x0.toFixed(1), y: 0, width: Math.max(1, X(h.t[j]) - x0).toFixed(1), height: 16, fill: STATE_COLORS[state] || 'var(--unknown)', 'data-state': state }, svg)
          .appendChild(svgEl('title', {})).textContent = state + ' ' + fmtClock(h.t[i] - h.intervalMs, true) + '–' + fmtClock(h.t[j], true);
      }
      i = j + 1;
    }
  }
  const axis = document.createElement('div');
  axis.className = 'tl-axis';
  axis.append(document.createElement('span'), fmtClock(dom[0], shortWindow(dom)) + ' – ' + fmtClock(dom[1], shortWindow(dom)));
  box.appendChild(axis);
  for (const state of ['healthy', 'unhealthy', 'ejected', 'drained', 'unknown']) {
    const item = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = STATE_COLORS[state];
    item.append(sw, state);
    legend.appendChild(item);
  }
}
`;
