/**
 * Two CPU profiles side by side (`node --cpu-prof`), per request: where a
 * proxy's busy time goes, by area (system calls, undici, Node's HTTP layers,
 * streams and events, Outrigger's own modules, GC) and by function, with the
 * difference. Idle samples are left out. Used for docs/benchmarks.md, "CPU
 * per request: where the microseconds go".
 *
 *   node bench/cpuprofile-compare.js A.cpuprofile B.cpuprofile REQUESTS [TOP]
 *
 * REQUESTS is the number of requests each process served while profiled
 * (the same for both); the profiler's own cost inflates every figure a
 * little, so compare the two columns, not the absolute values.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const WRITES = new Set(['writev', 'writeLatin1String', 'writeString', 'writeBuffer', 'writeUtf8String']);

/** The area a sampled frame belongs to (bench/flamegraph.js colours by it too). */
export function area({ functionName: f, url: u }) {
  if (f === '(garbage collector)') return 'garbage collector';
  if (u === '' && WRITES.has(f)) return 'socket and file writes (system calls)';
  if (f === '(program)') return 'native, unattributed ((program))';
  if (u.includes('/undici/') || u.startsWith('wasm://')) return 'undici (incl. llhttp in WebAssembly)';
  if (u.includes('node_modules')) return 'other dependencies';
  if (u.startsWith('file://')) return 'Outrigger / the proxy script itself';
  if (/^node:(internal\/)?http2/.test(u)) return 'node:http2 (core, compat, util)';
  if (/^node:_http_/.test(u)) return 'node:http (server, outgoing, incoming)';
  if (/streams|^node:events|^node:net|stream_base|buffer/.test(u)) return 'streams, events, net, buffers';
  if (/task_queues|timers|async_hooks|internal\/util/.test(u) || f === 'runMicrotasks') return 'ticks, microtasks, timers, async_hooks';
  return 'other (crypto, module loading, regexps, …)';
}

function load(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const usPerSample = (p.endTime - p.startTime) / p.samples.length;
  const areas = new Map();
  const fns = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  for (const id of p.samples) {
    const cf = byId.get(id);
    if (cf.functionName === '(idle)') continue;
    add(areas, area(cf), usPerSample);
    add(fns, `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(node_modules\/[^/]+|dist)\//, '$1/')}:${cf.lineNumber + 1}`, usPerSample);
  }
  return { areas, fns };
}

function table(title, x, y, n, top) {
  const rows = [...new Set([...x.keys(), ...y.keys()])].map((k) => [k, (x.get(k) ?? 0) / n, (y.get(k) ?? 0) / n]);
  const sum = (i) => rows.reduce((s, r) => s + r[i], 0);
  rows.sort((p, q) => Math.abs(q[1] - q[2]) - Math.abs(p[1] - p[2]));
  console.log(`\n${title} (µs per request, as profiled)\n\n|  | A | B | A − B |\n|---|---:|---:|---:|`);
  for (const [k, a, b] of rows.slice(0, top)) console.log(`| ${k} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a - b).toFixed(2)} |`);
  console.log(`| **busy time** | **${sum(1).toFixed(1)}** | **${sum(2).toFixed(1)}** | **${(sum(1) - sum(2)).toFixed(1)}** |`);
}

function main() {
  const [fileA, fileB, requests, top = '30'] = process.argv.slice(2);
  if (fileA === undefined || fileB === undefined || !(Number(requests) > 0)) {
    console.error('usage: node bench/cpuprofile-compare.js A.cpuprofile B.cpuprofile REQUESTS [TOP]');
    process.exit(2);
  }
  const [a, b] = [load(fileA), load(fileB)];
  console.log(`A = ${fileA}\nB = ${fileB}\n${requests} requests each`);
  table('By area', a.areas, b.areas, Number(requests), 20);
  table('By function, largest differences first', a.fns, b.fns, Number(requests), Number(top));
}

// A command when run, a module (for `area`) when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
