/**
 * `npm run bench -- --protocol h2`: h2c clients (h2load, `clients` × `streams`)
 * through each proxy to three h2c NGINX backends, and Outrigger's HTTP/1.1
 * figure (wrk -t1 -c64 to one NGINX backend) in the same run. Backends and
 * load generator on CPU 0, the proxy alone on CPU 1; rounds interleaved.
 * After the rounds, one connection with 10 streams sends SPREAD_REQUESTS
 * requests through each HTTP/2 proxy and the backends' logs say how evenly
 * they were spread. See docs/benchmarks.md, "How to run: HTTP/2 topology".
 */
import { mkdirSync, writeFileSync, existsSync, truncateSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { startBackend } from './backends.js';
import { startH2Backends, h2Targets } from './h2-targets.js';
import { h2Get } from './h2-client.js';
import { runLoad } from './load.js';
import { runH2load, runH2loadCount } from './h2-load.js';
import { measureOnce } from './measure.js';
import { busyText } from './proc-stats.js';
import { found } from './targets.js';
import { summarize, roundTable } from './report.js';
import { addH1Ratios, h2Table, spreadTable, spreadOf, H1_REFERENCE, CPU_TARGET_VS_H1 } from './h2-report.js';

const SPREAD_REQUESTS = 3000;
const SPREAD_STREAMS = 10;
const APT_PACKAGE = { nginx: 'nginx-light', haproxy: 'haproxy', wrk: 'wrk', h2load: 'nghttp2-client' };

/**
 * @param {{ args: Record<string, any>, group: import('./processes.js').ProcessGroup, dir: string, mainJs: string, root: string, commandLine: string }} o
 * @returns {Promise<number>} the exit code
 */
export async function runH2Bench({ args, group, dir, mainJs, root, commandLine }) {
  const timing = { durationS: Number(args.duration), warmupS: Number(args.warmup) };
  const h2 = { clients: Number(args.connections ?? 10), streams: Number(args.streams ?? 10), ...timing };
  const h1 = { tool: 'wrk', connections: 64, threads: 1, ...timing };
  const rounds = Number(args.rounds);
  const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];

  const names = ['outrigger-h1', 'outrigger', 'haproxy', 'nginx'];
  const wanted = args.only?.split(',') ?? names;
  const unknown = wanted.filter((n) => !names.includes(n));
  if (unknown.length > 0) throw new Error(`--protocol h2 targets are ${names.join(', ')}; unknown: ${unknown.join(', ')}`);
  const needed = ['nginx', 'h2load', ...wanted.filter((n) => n === 'haproxy'), ...(wanted.includes(H1_REFERENCE) ? ['wrk'] : [])];
  const missing = needed.filter((cmd) => !found(cmd));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')} (Debian: apt-get install -y ${missing.map((c) => APT_PACKAGE[c]).join(' ')})`);

  const h1Backend = await startBackend('nginx', { group, dir, cpu: loadCpu });
  const backends = await startH2Backends({ group, dir, cpu: loadCpu });
  const targets = h2Targets({ mainJs, h2Backends: backends.hostPorts }).filter((t) => wanted.includes(t.name));
  const ctx = { group, dir, backendUrl: h1Backend.url, proxyCpu };
  const pids = new Map();
  for (const t of targets) {
    pids.set(t.name, await t.start(ctx));
    await expectAnswer(t, h1Backend);
  }
  console.log(`outrigger bench, HTTP/2: h2load -c${h2.clients} -m${h2.streams} (HTTP/1.1 reference: wrk -t1 -c64), ${h2.warmupS} s warm-up + ${h2.durationS} s measured, ${rounds} rounds`);
  console.log(`command: ${commandLine}`);
  console.log(`backends: ${backends.label} (${backends.hostPorts.join(', ')}); HTTP/1.1 reference: ${h1Backend.label}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; pinning: ${group.pin ? 'proxy on CPU 1, load generator and backends on CPU 0' : 'off'}`);
  console.log(`targets: ${targets.map((t) => t.name).join(', ')}`);

  const runs = new Map(targets.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    const results = [];
    for (const t of order) {
      if (t.logFile && existsSync(t.logFile)) truncateSync(t.logFile, 0);
      const r = await measureOnce(pids.get(t.name), (window) => (t.load === 'wrk'
        ? runLoad(group, { ...h1, url: t.url, cpu: loadCpu }, window)
        : runH2load(group, { ...h2, url: t.url, cpu: loadCpu, logFile: join(dir, 'h2load.log') }, window)));
      runs.get(t.name).push(r);
      results.push({ label: t.label, r });
      const failures = r.non2xx + r.errors + r.timeouts;
      console.log(`  round ${round + 1}/${rounds}  ${t.label.padEnd(36)} ${Math.round(r.rps).toString().padStart(7)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  CPU ${r.cpuUsPerReq?.toFixed(1)} µs/req${busyText(r.cpuBusy)}${failures ? `  FAILURES ${r.non2xx}/${r.errors}/${r.timeouts}` : ''}`);
    }
    console.log(`\nround ${round + 1} of ${rounds}, in the order measured:\n\n${roundTable(results)}\n`);
  }

  const spreads = [];
  for (const t of targets.filter((x) => x.load === 'h2load')) {
    const mark = await backends.mark();
    const r = await runH2loadCount(group, { url: t.url, clients: 1, streams: SPREAD_STREAMS, requests: SPREAD_REQUESTS, cpu: loadCpu });
    spreads.push({ name: t.name, label: t.label, counts: await backends.countSince(mark), r });
  }
  return report({ targets, runs, spreads, rounds, h2, h1, root, commandLine, check: args.check, pinned: group.pin });
}

/** Every target must really proxy to the backend(s) before it is measured. */
async function expectAnswer(t, h1Backend) {
  const { status, body } = t.load === 'wrk'
    ? await fetch(t.url).then(async (res) => ({ status: res.status, body: await res.text() }))
    : await h2Get(t.url, 5000);
  if (status !== 200 || !h1Backend.answersRight(body)) throw new Error(`${t.label} at ${t.url} answered ${status} ${body.slice(0, 80)}`);
}

function report({ targets, runs, spreads, rounds, h2, h1, root, commandLine, check, pinned }) {
  const rows = addH1Ratios(summarize(targets, runs), runs);
  console.log(`medians over ${rounds} round(s); CPU µs per request of the proxy (NGINX: its worker), measured window only:\n\n${h2Table(rows)}\n`);
  console.log(`per-backend requests, one connection × ${SPREAD_STREAMS} streams, ${SPREAD_REQUESTS} requests:\n\n${spreadTable(spreads)}\n`);
  let pass = true;
  const o = rows.find((r) => r.name === 'outrigger');
  if (o?.cpuVsH1) {
    pass = o.cpuVsH1 <= CPU_TARGET_VS_H1;
    console.log(`target: Outrigger CPU µs per HTTP/2 request ≤ ${CPU_TARGET_VS_H1}× its HTTP/1.1 figure → ${o.cpuVsH1.toFixed(2)}× (paired per round: ${o.cpuVsH1Paired?.toFixed(2)}×) ${pass ? 'PASS' : 'FAIL'}`);
  }
  const os = spreads.find((s) => s.name === 'outrigger');
  if (os) {
    const s = spreadOf(os.counts);
    pass &&= s.even;
    console.log(`target: Outrigger per-backend counts within ±10 % of even for one connection → ${os.counts.join(' / ')}, ${(s.deviation * 100).toFixed(1)} % ${s.even ? 'PASS' : 'FAIL'}`);
  }
  const outDir = join(root, '.bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-h2-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), command: commandLine, node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model, pinned, h2, h1, rounds, rows, spreads, runs: Object.fromEntries(runs) }, null, 2));
  console.log(`raw results: ${file}`);
  return check && !pass ? 1 : 0;
}
