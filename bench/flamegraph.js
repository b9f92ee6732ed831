/**
 * A V8 CPU profile (`node --cpu-prof`) drawn as one self-contained SVG flame
 * graph: stacks bottom-up, each frame as wide as its share of the busy
 * samples (idle samples left out), coloured by area (the areas of
 * bench/cpuprofile-compare.js), with a tooltip per frame (function, file,
 * µs per request as profiled, share) and a legend. Frames narrower than
 * --min (a share of the busy time) are left out; their time stays in their
 * caller's width. Used for docs/benchmarks.md, "Flame graphs and the lean path".
 *
 *   node bench/flamegraph.js IN.cpuprofile REQUESTS OUT.svg ["what was profiled"] [--min 0.001]
 *
 * REQUESTS is the number of requests the process served while profiled.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { area } from './cpuprofile-compare.js';

const WIDTH = 1200;
const ROW = 16;
const PAD = 10;
/** One colour per area of cpuprofile-compare.js; anything else grey. */
const COLOURS = {
  'socket and file writes (system calls)': '#d6604d',
  'native, unattributed ((program))': '#bababa',
  'garbage collector': '#8c6bb1',
  'undici (incl. llhttp in WebAssembly)': '#f4a582',
  'other dependencies': '#dfc27d',
  'Outrigger / the proxy script itself': '#4393c3',
  'node:http2 (core, compat, util)': '#80cdc1',
  'node:http (server, outgoing, incoming)': '#92c5de',
  'streams, events, net, buffers': '#a6d96a',
  'ticks, microtasks, timers, async_hooks': '#fee08b',
  'other (crypto, module loading, regexps, …)': '#e0e0e0',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const shortUrl = (u) => u.replace(/^.*\/(node_modules\/[^/]+|dist|bench)\//, '$1/');

/**
 * @param {{ nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>, samples: number[], startTime: number, endTime: number }} profile
 * @param {{ requests: number, title: string, minShare?: number }} o
 * @returns {string} the SVG
 */
export function flamegraph(profile, { requests, title, minShare = 0.001 }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, { ...n, self: 0, total: 0, kids: [] }]));
  for (const n of byId.values()) for (const c of n.children ?? []) byId.get(c).parent = n;
  for (const n of byId.values()) if (n.parent) n.parent.kids.push(n);
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  let busy = 0;
  for (const id of profile.samples) {
    const n = byId.get(id);
    if (n.callFrame.functionName === '(idle)') continue;
    n.self++;
    busy++;
    for (let p = n; p; p = p.parent) p.total++;
  }
  const root = [...byId.values()].find((n) => !n.parent);
  const us = (count) => (count * usPerSample) / requests;
  const minCount = Math.max(1, busy * minShare);
  const scale = (WIDTH - 2 * PAD) / Math.max(busy, 1);

  // Lay out: each node at its depth, children left to right by name (the flame graph convention).
  const frames = [];
  const usedAreas = new Set();
  let maxDepth = 0;
  const place = (n, depth, x) => {
    frames.push({ n, depth, x });
    maxDepth = Math.max(maxDepth, depth);
    let cx = x;
    const kids = n.kids.filter((k) => k.total >= minCount).sort((a, b) => label(a).localeCompare(label(b)));
    for (const k of kids) {
      place(k, depth + 1, cx);
      cx += k.total;
    }
  };
  place(root, 0, 0);

  const top = 2 * ROW + PAD + ROW * Math.ceil(Object.keys(COLOURS).length / 3) + PAD;
  const height = top + (maxDepth + 1) * ROW + PAD;
  const out = [];
  for (const { n, depth, x } of frames) {
    const isRoot = n === root;
    const a = isRoot ? null : area(n.callFrame);
    if (a) usedAreas.add(a);
    const w = n.total * scale;
    const [fx, fy] = [PAD + x * scale, height - PAD - (depth + 1) * ROW];
    const name = isRoot ? 'all busy samples' : label(n);
    const where = isRoot || n.callFrame.url === '' ? '' : ` ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    const tip = `${name}${where}\n${us(n.total).toFixed(2)} µs per request (${((100 * n.total) / busy).toFixed(1)} %), `
      + `self ${us(n.self).toFixed(2)} µs${a ? `\n${a}` : ''}`;
    const chars = Math.floor((w - 6) / 6.6);
    const text = chars >= 3 ? `<text x="${(fx + 3).toFixed(1)}" y="${fy + 11.5}">${esc(name.length > chars ? `${name.slice(0, chars - 1)}…` : name)}</text>` : '';
    out.push(`<g><title>${esc(tip)}</title><rect x="${fx.toFixed(1)}" y="${fy}" width="${Math.max(w - 0.5, 0.5).toFixed(1)}" height="${ROW - 1}" fill="${a ? COLOURS[a] ?? '#cccccc' : '#f0f0f0'}"/>${text}</g>`);
  }
  const legend = Object.entries(COLOURS).filter(([k]) => usedAreas.has(k)).map(([k, c], i) => {
    const [lx, ly] = [PAD + (i % 3) * 390, 2 * ROW + PAD + Math.floor(i / 3) * ROW];
    return `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${ly + 10.5}">${esc(k)}</text>`;
  });
  const head = `${requests} requests; busy time ${us(busy).toFixed(1)} µs per request as profiled (${busy} samples of ${usPerSample.toFixed(0)} µs, idle left out); `
    + `frames under ${(minShare * 100).toFixed(1)} % not drawn. Hover a frame for its figures.`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">
<style>text{fill:#222;pointer-events:none}g:hover rect{stroke:#000;stroke-width:0.8}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${PAD}" y="${PAD + 10}" font-size="13" font-weight="bold">${esc(title)}</text>
<text x="${PAD}" y="${PAD + 10 + ROW}">${esc(head)}</text>
${legend.join('\n')}
${out.join('\n')}
</svg>
`;
}

function label(n) {
  return n.callFrame.functionName || '(anonymous)';
}

function main() {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--min');
  const minShare = at >= 0 ? Number(argv.splice(at, 2)[1]) : undefined;
  const [input, requests, output, title] = argv;
  if (input === undefined || output === undefined || !(Number(requests) > 0)) {
    console.error('usage: node bench/flamegraph.js IN.cpuprofile REQUESTS OUT.svg ["what was profiled"] [--min 0.001]');
    process.exit(2);
  }
  const svg = flamegraph(JSON.parse(readFileSync(input, 'utf8')), { requests: Number(requests), title: title ?? input, minShare });
  writeFileSync(output, svg);
  console.log(`${output}: ${Math.round(svg.length / 1024)} KB`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
