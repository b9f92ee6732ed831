/**
 * L4 (MODE=tcp) against HAProxy `mode tcp` and the Node floor
 * (bench/floor-tcp.js: a bare net server piping to a new backend
 * connection, what Node itself costs per tunnel), in one run: wrk through
 * each to one NGINX backend, the proxy pinned to CPU 1, wrk and NGINX on CPU 0. Two
 * loads: keep-alive (64 tunnels carrying many requests each) and a new
 * connection per request (`Connection: close`: accept, connect, relay,
 * close). Reports req/s, the proxy's CPU µs per request and req/s per core
 * (1e6 ÷ CPU µs per request), and Outrigger's req/s per core as a share of
 * HAProxy's (issue target: ≥ 0.9×). Rounds alternate the targets.
 *
 *   npm run build && node bench/tcp-bench.js [--duration 10] [--warmup 3] [--rounds 3] [--node /path/to/node]
 *     [--targets outrigger,floor,haproxy]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBackend } from './lib/backends.js';
import { startHaproxy } from './lib/haproxy.js';
import { runLoad } from './lib/load.js';
import { measureOnce } from './lib/measure.js';
import { ProcessGroup, freePort, tasksetUsable, waitForHttp } from './lib/processes.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    node: { type: 'string', default: process.execPath },
    targets: { type: 'string', default: 'outrigger,floor,haproxy' },
  },
});
const MAIN_JS = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const FLOOR_JS = fileURLToPath(new URL('./floor-tcp.js', import.meta.url));
const nodeLabel = `node ${args.node === process.execPath ? process.version : args.node}`;
const group = new ProcessGroup({ pin: tasksetUsable() && availableParallelism() >= 2 });
const [proxyCpu, loadCpu] = group.pin ? ['1', '0'] : [undefined, undefined];
const dir = mkdtempSync(join(tmpdir(), 'outrigger-tcp-bench-'));
process.on('exit', () => { group.killAllNow(); rmSync(dir, { recursive: true, force: true }); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const backend = await startBackend('nginx', { group, dir, cpu: loadCpu, backendJs: '' });
const backendHostPort = backend.url.slice('http://'.length);

const allTargets = [
  {
    name: 'outrigger', label: `Outrigger MODE=tcp (${nodeLabel})`,
    async start() {
      const port = await freePort();
      const admin = await freePort();
      const child = group.start('outrigger', args.node, [MAIN_JS], {
        cpu: proxyCpu, cleanEnv: true,
        env: { MODE: 'tcp', BACKENDS: backendHostPort, PROXY_PORT: String(port), ADMIN_PORT: String(admin), LOG_LEVEL: 'warn' },
      });
      await waitForHttp(`http://127.0.0.1:${admin}/readyz`, { child });
      return { child, url: `http://127.0.0.1:${port}/` };
    },
  },
  {
    name: 'floor', label: `Node floor, bench/floor-tcp.js (${nodeLabel})`,
    async start() {
      const port = await freePort();
      const admin = await freePort();
      const child = group.start('floor-tcp', args.node, [FLOOR_JS], {
        cpu: proxyCpu, cleanEnv: true, env: { BACKENDS: backendHostPort, PROXY_PORT: String(port), ADMIN_PORT: String(admin) },
      });
      await waitForHttp(`http://127.0.0.1:${admin}/`, { child });
      await waitForHttp(`http://127.0.0.1:${port}/`, { child });
      return { child, url: `http://127.0.0.1:${port}/` };
    },
  },
  {
    name: 'haproxy', label: 'HAProxy 1 thread, mode tcp',
    async start() {
      const port = await freePort();
      const conf = ['global', '  nbthread 1', '  maxconn 4000', 'defaults', '  mode tcp',
        '  timeout connect 2s', '  timeout client 65s', '  timeout server 65s',
        'frontend fe', `  bind 127.0.0.1:${port}`, '  default_backend be',
        'backend be', `  server b1 ${backendHostPort}`, ''].join('\n');
      const { child } = startHaproxy({ dir, group, proxyCpu }, 'haproxy-tcp', conf);
      await waitForHttp(`http://127.0.0.1:${port}/`, { child });
      return { child, url: `http://127.0.0.1:${port}/` };
    },
  },
];

const wanted = args.targets.split(',');
const targets = allTargets.filter((t) => wanted.includes(t.name));

const loads = [
  { name: 'keep-alive', label: 'keep-alive, 64 connections', headers: [] },
  { name: 'close', label: 'new connection per request, 64 at a time', headers: ['Connection: close'] },
];
const results = [];
console.log(`outrigger tcp bench (${targets.map((t) => t.name).join(', ')}): wrk -t1 -c64, ${args.warmup} s warm-up + ${args.duration} s, ${args.rounds} rounds; backend: ${backend.label}`);
console.log(`command: node bench/tcp-bench.js ${process.argv.slice(2).join(' ')}`);
for (let round = 0; round < Number(args.rounds); round++) {
  const order = round % 2 === 0 ? targets : [...targets].reverse();
  for (const target of order) {
    const { child, url } = await target.start();
    for (const load of loads) {
      const r = await measureOnce(child.pid, (window) => runLoad(group, {
        tool: 'wrk', url, threads: 1, connections: 64, durationS: Number(args.duration), warmupS: Number(args.warmup),
        cpu: loadCpu, headers: load.headers,
      }, window));
      results.push({ target: target.name, load: load.name, rps: r.rps, cpuUs: r.cpuUsPerReq, errors: r.errors, timeouts: r.timeouts });
      console.log(`  round ${round + 1}  ${target.label.padEnd(36)} ${load.label.padEnd(42)} ${Math.round(r.rps)} req/s  CPU ${r.cpuUsPerReq?.toFixed(1)} µs/req`);
    }
    await group.stop(child);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const has = (name) => targets.some((t) => t.name === name);
console.log('\n| load | target | req/s (median) | CPU µs/req (median), rounds | req/s per core | × HAProxy per core |');
console.log('|---|---|---:|---:|---:|---:|');
let failed = false;
for (const load of loads) {
  const perCore = {};
  for (const target of targets) {
    const rows = results.filter((r) => r.target === target.name && r.load === load.name);
    const cpu = median(rows.map((r) => r.cpuUs));
    perCore[target.name] = 1e6 / cpu;
  }
  for (const target of targets) {
    const rows = results.filter((r) => r.target === target.name && r.load === load.name);
    const cpu = median(rows.map((r) => r.cpuUs));
    const ratio = has('haproxy') ? `${(perCore[target.name] / perCore.haproxy).toFixed(2)}×` : '—';
    console.log(`| ${load.label} | ${target.label} | ${Math.round(median(rows.map((r) => r.rps)))} | ${cpu.toFixed(1)} (${rows.map((r) => r.cpuUs.toFixed(1)).join(' / ')}) | ${Math.round(perCore[target.name])} | ${ratio} |`);
  }
  if (has('outrigger') && has('floor')) {
    console.log(`| ${load.label} | Outrigger ÷ Node floor | | | | ${(perCore.outrigger / perCore.floor).toFixed(2)}× the floor |`);
  }
  if (has('outrigger') && has('haproxy')) {
    const share = perCore.outrigger / perCore.haproxy;
    failed ||= share < 0.9;
    console.log(`| ${load.label} | Outrigger ÷ HAProxy | | | | **${share.toFixed(2)}×** |`);
  }
}
if (has('outrigger') && has('haproxy')) {
  console.log(`\ntarget: Outrigger MODE=tcp req/s per core ≥ 0.9× HAProxy mode tcp → ${failed ? 'FAIL' : 'PASS'}`);
}
await group.stopAll();
