/**
 * CPU per request through TCP proxies on a fixed amount of work, for A/B
 * comparisons on a busy machine: every target is started once and warmed
 * up, then measured in rounds whose order rotates; in each, wrk -t1 -c64
 * exits after a fixed number of answers (bench/wrk-count.lua) and the proxy's
 * utime + stime from /proc is read before and after. A time window would
 * give the proxy less or more work as the machine's load moves; a fixed
 * count does not. Reports the median and the range over rounds.
 *
 *   npm run build && node bench/tcp-ab.js --variant head=dist/main.js --variant floor=bench/floor-tcp.js \
 *     [--variant haproxy] [--variant base=/copy/of/an/older/dist/main.js] [--rounds 5] [--node /path/to/node]
 *     [--keepalive-requests 100000] [--close-requests 20000] [--loads keep-alive,close]
 *
 * A variant named `floor…` runs as the floor (bench/floor-tcp.js's contract);
 * `haproxy` is HAProxy 1 thread, `mode tcp`; any other is an Outrigger
 * main.js run with MODE=tcp, LOG_LEVEL=warn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBackend } from './lib/backends.js';
import { startHaproxy } from './lib/haproxy.js';
import { runChild } from './lib/load.js';
import { cpuSeconds } from './lib/proc-stats.js';
import { ProcessGroup, freePort, tasksetUsable, waitForHttp } from './lib/processes.js';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '5' },
    node: { type: 'string', default: process.execPath },
    'keepalive-requests': { type: 'string', default: '100000' },
    'close-requests': { type: 'string', default: '20000' },
    loads: { type: 'string', default: 'keep-alive,close' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const WRK_COUNT = fileURLToPath(new URL('./wrk-count.lua', import.meta.url));
const group = new ProcessGroup({ pin: tasksetUsable() && availableParallelism() >= 2 });
const [proxyCpu, loadCpu] = group.pin ? ['1', '0'] : [undefined, undefined];
const dir = mkdtempSync(join(tmpdir(), 'outrigger-tcp-ab-'));
process.on('exit', () => { group.killAllNow(); rmSync(dir, { recursive: true, force: true }); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
const extraEnv = Object.fromEntries(args.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

const backend = await startBackend('nginx', { group, dir, cpu: loadCpu, backendJs: '' });
const backendHostPort = backend.url.slice('http://'.length);

async function startTarget(name, path) {
  const port = await freePort();
  if (name === 'haproxy') {
    const conf = ['global', '  nbthread 1', '  maxconn 4000', 'defaults', '  mode tcp',
      '  timeout connect 2s', '  timeout client 65s', '  timeout server 65s',
      'frontend fe', `  bind 127.0.0.1:${port}`, '  default_backend be', 'backend be', `  server b1 ${backendHostPort}`, ''].join('\n');
    const { child } = startHaproxy({ dir, group, proxyCpu }, 'haproxy-tcp', conf);
    await waitForHttp(`http://127.0.0.1:${port}/`, { child });
    return { child, url: `http://127.0.0.1:${port}/` };
  }
  const admin = await freePort();
  const env = name.startsWith('floor')
    ? { BACKENDS: backendHostPort, PROXY_PORT: String(port), ADMIN_PORT: String(admin) }
    : { MODE: 'tcp', BACKENDS: backendHostPort, PROXY_PORT: String(port), ADMIN_PORT: String(admin), LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '0', ...extraEnv };
  const child = group.start(name, args.node, [resolve(path)], { cpu: proxyCpu, cleanEnv: true, env });
  await waitForHttp(`http://127.0.0.1:${admin}/${name.startsWith('floor') ? '' : 'readyz'}`, { child });
  return { child, url: `http://127.0.0.1:${port}/` };
}

const loads = [
  { name: 'keep-alive', headers: [], requests: Number(args['keepalive-requests']) },
  { name: 'close', headers: ['Connection: close'], requests: Number(args['close-requests']) },
].filter((l) => args.loads.split(',').includes(l.name));

/** One fixed-count load; returns the proxy's CPU µs per answered request. */
async function measure(target, load, requests) {
  const headers = load.headers.flatMap((h) => ['-H', h]);
  const before = cpuSeconds(target.child.pid);
  const out = await runChild(group, 'wrk', ['-t1', '-c64', '-d120s', '--timeout', '10s', ...headers, '-s', WRK_COUNT, target.url],
    loadCpu, 120, undefined, { BENCH_N: String(requests) });
  await new Promise((r) => setTimeout(r, 300)); // the proxy closes the connections wrk dropped
  const after = cpuSeconds(target.child.pid);
  const line = out.split('\n').find((l) => l.startsWith('BENCH-COUNT '));
  if (line === undefined) throw new Error(`wrk printed no count:\n${out}`);
  const r = JSON.parse(line.slice('BENCH-COUNT '.length));
  return { us: ((after - before) * 1e6) / r.requests, requests: r.requests, errors: r.non2xx };
}

const variants = args.variant.map((v) => {
  const eq = v.indexOf('=');
  return eq < 0 ? { name: v, path: '' } : { name: v.slice(0, eq), path: v.slice(eq + 1) };
});
const targets = [];
for (const v of variants) {
  const t = { ...v, ...(await startTarget(v.name, v.path)) };
  for (const load of loads) await measure(t, load, Math.ceil(load.requests / 4)); // warm-up
  targets.push(t);
}
console.log(`tcp-ab: ${targets.map((t) => t.name).join(', ')}; node ${args.node}; ${args.rounds} rounds; wrk -t1 -c64; ` +
  loads.map((l) => `${l.name} ${l.requests} requests`).join(', '));
const results = [];
for (let round = 0; round < Number(args.rounds); round++) {
  const shift = round % targets.length;
  const order = [...targets.slice(shift), ...targets.slice(0, shift)];
  for (const t of order) {
    for (const load of loads) {
      const r = await measure(t, load, load.requests);
      results.push({ target: t.name, load: load.name, ...r });
      console.log(`  round ${round + 1}  ${t.name.padEnd(12)} ${load.name.padEnd(10)} ${r.us.toFixed(1)} µs/req${r.errors ? `  (${r.errors} errors)` : ''}`);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\n| load | target | CPU µs/req, median | range | × first target |');
console.log('|---|---|---:|---:|---:|');
for (const load of loads) {
  const first = median(results.filter((r) => r.target === targets[0].name && r.load === load.name).map((r) => r.us));
  for (const t of targets) {
    const us = results.filter((r) => r.target === t.name && r.load === load.name).map((r) => r.us);
    console.log(`| ${load.name} | ${t.name} | ${median(us).toFixed(1)} | ${Math.min(...us).toFixed(1)}–${Math.max(...us).toFixed(1)} | ${(median(us) / first).toFixed(2)} |`);
  }
}
await group.stopAll();
