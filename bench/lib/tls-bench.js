/**
 * `npm run bench -- --protocol tls`: TLS on the listener. The NGINX-backend
 * topology (plain-HTTP NGINX backend with the 12-byte body and wrk on CPU 0,
 * the proxy alone on CPU 1) with Outrigger, HAProxy and NGINX terminating the
 * same certificate (lib/tls-targets.js), each under two loads: keep-alive
 * (`wrk -t1 -c64`, handshakes only at connect) and a new TLS connection per
 * request (`wrk -t1 -c16 -H 'Connection: close'`: wrk reconnects after each
 * answer, a full handshake each time since session resumption is kept out).
 * Rounds interleaved, order rotating; medians. See docs/benchmarks.md,
 * "How to run: TLS topology".
 */
import https from 'node:https';
import { mkdirSync, writeFileSync, existsSync, truncateSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { startBackend } from './backends.js';
import { makeCertificate, writeClientConf, probeResumption, tlsTargets } from './tls-targets.js';
import { runLoad } from './load.js';
import { measureOnce } from './measure.js';
import { busyText } from './proc-stats.js';
import { found } from './targets.js';
import { median, roundTable } from './report.js';

const APT_PACKAGE = { nginx: 'nginx-light', haproxy: 'haproxy', wrk: 'wrk', openssl: 'openssl' };
const LOADS = [
  { key: 'keepalive', label: 'keep-alive', connections: 64, headers: [] },
  { key: 'close', label: 'new TLS connection per request', connections: 16, headers: ['Connection: close'] },
];

/**
 * @param {{ args: Record<string, any>, group: import('./processes.js').ProcessGroup, dir: string, mainJs: string, root: string, commandLine: string }} o
 * @returns {Promise<number>} the exit code
 */
export async function runTlsBench({ args, group, dir, mainJs, root, commandLine }) {
  const timing = { durationS: Number(args.duration), warmupS: Number(args.warmup) };
  const rounds = Number(args.rounds);
  const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];
  const names = ['outrigger', 'haproxy', 'nginx'];
  const wanted = args.only?.split(',') ?? names;
  const unknown = wanted.filter((n) => !names.includes(n));
  if (unknown.length > 0) throw new Error(`--protocol tls targets are ${names.join(', ')}; unknown: ${unknown.join(', ')}`);
  const missing = ['nginx', 'wrk', 'openssl', ...wanted.filter((n) => n === 'haproxy')].filter((cmd) => !found(cmd));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')} (Debian: apt-get install -y ${missing.map((c) => APT_PACKAGE[c]).join(' ')})`);

  const cert = makeCertificate(dir);
  const clientConf = writeClientConf(dir);
  const backend = await startBackend('nginx', { group, dir, cpu: loadCpu });
  const targets = tlsTargets({ mainJs, cert }).filter((t) => wanted.includes(t.name));
  const ctx = { group, dir, backendUrl: backend.url, proxyCpu };
  const pids = new Map();
  const probes = new Map();
  for (const t of targets) {
    pids.set(t.name, await t.start(ctx));
    await expectAnswer(t, backend, cert.certFile);
    const hostPort = new URL(t.url).host;
    probes.set(t.name, { bench: probeResumption(hostPort, clientConf), plain: probeResumption(hostPort, undefined) });
  }
  console.log(`outrigger bench, TLS on the listener: wrk -t1 -c64 (keep-alive) and wrk -t1 -c16 -H 'Connection: close' (a new TLS connection per request), ${timing.warmupS} s warm-up + ${timing.durationS} s measured, ${rounds} rounds`);
  console.log(`command: ${commandLine}`);
  console.log(`backend: ${backend.label} (plain HTTP); certificate: ${cert.label}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; pinning: ${group.pin ? 'proxy on CPU 1, load generator and backend on CPU 0' : 'off'}`);
  for (const t of targets) {
    const p = probes.get(t.name);
    console.log(`resumption, ${t.label}: ${p.bench.reused} of ${p.bench.of} reconnects resumed with the bench's client settings (${p.plain.reused} of ${p.plain.of} with OpenSSL's defaults); ${p.bench.cipher}`);
  }

  const runs = new Map(targets.flatMap((t) => LOADS.map((l) => [`${t.name}:${l.key}`, []])));
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    const results = [];
    for (const t of order) {
      for (const l of LOADS) {
        if (t.logFile && existsSync(t.logFile)) truncateSync(t.logFile, 0);
        const load = { tool: 'wrk', threads: 1, connections: l.connections, headers: l.headers, env: { OPENSSL_CONF: clientConf }, ...timing, url: t.url, cpu: loadCpu };
        const r = await measureOnce(pids.get(t.name), (window) => runLoad(group, load, window));
        runs.get(`${t.name}:${l.key}`).push(r);
        results.push({ label: `${t.label}, ${l.label}`, r });
        const failures = r.non2xx + r.errors + r.timeouts;
        console.log(`  round ${round + 1}/${rounds}  ${`${t.label}, ${l.key}`.padEnd(42)} ${Math.round(r.rps).toString().padStart(7)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  CPU ${r.cpuUsPerReq?.toFixed(1)} µs/req${busyText(r.cpuBusy)}${failures ? `  FAILURES ${r.non2xx}/${r.errors}/${r.timeouts}` : ''}`);
      }
    }
    console.log(`\nround ${round + 1} of ${rounds}, in the order measured:\n\n${roundTable(results)}\n`);
  }
  return report({ targets, runs, probes, rounds, timing, root, commandLine, pinned: group.pin, cert: cert.label });
}

/** Every target must serve the bench's certificate (verified against it) and proxy to the backend before it is measured. */
function expectAnswer(t, backend, certFile) {
  return new Promise((resolve, reject) => {
    const req = https.get(t.url, { ca: readFileSync(certFile), agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 && backend.answersRight(body) ? resolve() : reject(new Error(`${t.label} at ${t.url} answered ${res.statusCode} ${body.slice(0, 80)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${t.label} at ${t.url}: no answer within 5 s`)));
    req.on('error', reject);
  });
}

const fmt = (v, digits = 0) => (v === null || v === undefined ? '—' : v.toFixed(digits));

function tlsTable(targets, runs) {
  const head = ['target', 'keep-alive req/s', 'keep-alive CPU µs/req', 'rounds', 'handshakes/s (new connection per request)', 'CPU µs per handshake + request', 'rounds', 'errors'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const rows = [];
  for (const t of targets) {
    const [ka, cl] = LOADS.map((l) => runs.get(`${t.name}:${l.key}`));
    const row = {
      name: t.name, label: t.label, keepAliveRps: median(ka.map((r) => r.rps)), keepAliveCpuUs: median(ka.map((r) => r.cpuUsPerReq)),
      handshakesPerS: median(cl.map((r) => r.rps)), handshakeCpuUs: median(cl.map((r) => r.cpuUsPerReq)),
      failures: [...ka, ...cl].reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    };
    rows.push(row);
    lines.push(`| ${[t.label, fmt(row.keepAliveRps), fmt(row.keepAliveCpuUs, 1), ka.map((r) => `${Math.round(r.rps)} @ ${fmt(r.cpuUsPerReq, 1)}`).join(' / '),
      fmt(row.handshakesPerS), fmt(row.handshakeCpuUs, 1), cl.map((r) => `${Math.round(r.rps)} @ ${fmt(r.cpuUsPerReq, 1)}`).join(' / '), String(row.failures)].join(' | ')} |`);
  }
  return { rows, text: lines.join('\n') };
}

function report({ targets, runs, probes, rounds, timing, root, commandLine, pinned, cert }) {
  const { rows, text } = tlsTable(targets, runs);
  console.log(`medians over ${rounds} round(s); CPU µs per request of the proxy (NGINX: its worker), measured window only; "rounds" lists req/s @ CPU µs per round:\n\n${text}\n`);
  const outDir = join(root, '.bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-tls-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), command: commandLine, node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model, pinned, cert, timing, rounds, probes: Object.fromEntries(probes), rows, runs: Object.fromEntries(runs) }, null, 2));
  console.log(`raw results: ${file}`);
  return 0;
}
