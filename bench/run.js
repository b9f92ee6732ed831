/**
 * `npm run bench`: one backend, and against it — in one invocation, with the
 * same load tool — direct access, Outrigger (access log on, and off), node-http-proxy,
 * and NGINX / HAProxy when installed. The proxy under test is pinned to CPU 1,
 * the load generator and the backend to CPU 0. Rounds are interleaved (the order
 * rotates each round) and the table shows medians. See docs/benchmarks.md.
 *
 *   node bench/run.js [--tool autocannon|wrk] [--connections 50] [--duration 10]
 *                     [--warmup 3] [--rounds 3] [--only a,b] [--no-rivals]
 *                     [--variant LABEL=path/to/main.js[,NAME=VALUE…]]… [--check]
 *
 * In --variant, NAME=VALUE pairs are environment for that Outrigger, except
 * BENCH_STDOUT=PATH, which sends its stdout (the access log) to PATH instead of a file.
 */
import { parseArgs } from 'node:util';
import { existsSync, mkdtempSync, rmSync, mkdirSync, writeFileSync, statSync, truncateSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, tasksetUsable, freePort, waitForHttp } from './lib/processes.js';
import { ProcSampler, CpuBusySampler } from './lib/proc-stats.js';
import { runLoad } from './lib/load.js';
import { directTarget, outriggerTarget, httpProxyTarget, nginxTarget, haproxyTarget, found } from './lib/targets.js';
import { summarize, table } from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN_JS = join(ROOT, 'dist/main.js');
const BACKEND_JS = join(ROOT, 'dist/demo/backend.js');
const TARGET_RATIO = 1.5;
const QUIET_BUSY = 0.15;
const QUIET_WAIT_S = 30;

const { values: args } = parseArgs({
  options: {
    tool: { type: 'string', default: 'autocannon' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'no-rivals': { type: 'boolean', default: false },
    variant: { type: 'string', multiple: true, default: [] },
    check: { type: 'boolean', default: false },
  },
});

const group = new ProcessGroup({ pin: tasksetUsable() && availableParallelism() >= 2 });
let tempDir;
const cleanUpNow = () => {
  group.killAllNow();
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
};
process.on('exit', cleanUpNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUpNow();
    process.exit(130);
  });
}

function buildTargets(notes) {
  const all = [
    directTarget(),
    outriggerTarget({ name: 'outrigger', label: 'Outrigger (access log on)', mainJs: MAIN_JS, accessLog: true }),
    outriggerTarget({ name: 'outrigger-nolog', label: 'Outrigger (access log off)', mainJs: MAIN_JS, accessLog: false }),
    ...args.variant.map(variantTarget),
    httpProxyTarget(),
  ];
  for (const [cmd, make] of [['nginx', nginxTarget], ['haproxy', haproxyTarget]]) {
    if (args['no-rivals']) continue;
    if (found(cmd)) all.push(make());
    else notes.push(`${cmd} not installed: skipped (apt-get install -y ${cmd === 'nginx' ? 'nginx-light' : 'haproxy'})`);
  }
  const only = args.only?.split(',');
  return only ? all.filter((t) => only.includes(t.name)) : all;
}

/** `--variant LABEL=path/to/main.js[,NAME=VALUE…]`: another Outrigger build (or settings) measured alongside. */
function variantTarget(spec) {
  const [head, ...envPairs] = spec.split(',');
  const eq = head.indexOf('=');
  const [label, path] = [head.slice(0, eq), head.slice(eq + 1)];
  if (eq <= 0 || !existsSync(path)) throw new Error(`--variant wants LABEL=path/to/main.js[,NAME=VALUE…], got ${spec}`);
  const env = Object.fromEntries(envPairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const accessLog = env.ACCESS_LOG !== 'false';
  return outriggerTarget({ name: `variant:${label}`, label: `Outrigger ${label} (access log ${accessLog ? 'on' : 'off'})`, mainJs: path, accessLog, env });
}

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does)');
  if (args.tool !== 'autocannon' && args.tool !== 'wrk') throw new Error('--tool is autocannon or wrk');
  if (args.tool === 'wrk' && !found('wrk')) throw new Error('wrk is not installed (apt-get install -y wrk), or use --tool autocannon');
  const notes = [];
  const load = { tool: args.tool, connections: Number(args.connections), durationS: Number(args.duration), warmupS: Number(args.warmup) };
  const rounds = Number(args.rounds);
  const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];
  if (!group.pin) notes.push('taskset unavailable or fewer than 2 CPUs: processes are not pinned');

  const dir = mkdtempSync(join(tmpdir(), 'outrigger-bench-'));
  tempDir = dir;
  try {
    const backendPort = await freePort();
    const backend = group.start('backend', process.execPath, [BACKEND_JS, String(backendPort), '127.0.0.1'], { cpu: loadCpu, cleanEnv: true });
    const backendUrl = `http://127.0.0.1:${backendPort}`;
    await waitForHttp(`${backendUrl}/ping`, { child: backend });

    const ctx = { group, dir, backendUrl, proxyCpu };
    const pids = new Map();
    const targets = [];
    for (const t of buildTargets(notes)) {
      try {
        pids.set(t.name, await t.start(ctx));
        await expectPong(t);
        targets.push(t);
      } catch (err) {
        // The optional rivals may be skipped; Outrigger, http-proxy and direct may not.
        if (t.optional !== true) throw err;
        notes.push(`${t.name} did not start, skipped: ${String(err.message).split('\n').slice(-3).join(' ').slice(0, 300)}`);
      }
    }
    printHeader(load, rounds, targets, notes);

    const runs = new Map(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        const r = await measureOnce(t, pids.get(t.name), load, loadCpu);
        runs.get(t.name).push(r);
        console.log(`  round ${round + 1}/${rounds}  ${t.label.padEnd(34)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${busyText(r.cpuBusy)}${r.non2xx + r.errors + r.timeouts ? `  FAILURES ${r.non2xx}/${r.errors}/${r.timeouts}` : ''}`);
      }
    }
    return report(targets, runs, load, rounds, notes);
  } finally {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One warm-up + measurement of one target, with the proxy's CPU and RSS and the CPUs' busy share. */
async function measureOnce(t, pid, load, loadCpu) {
  if (t.logFile && existsSync(t.logFile)) truncateSync(t.logFile, 0);
  const background = await waitForQuiet();
  if (background > QUIET_BUSY) console.log(`  (machine still ${Math.round(background * 100)} % busy after ${QUIET_WAIT_S} s; measuring anyway)`);
  // Sampling spans warm-up and measurement: RSS peak includes warm-up, CPU is averaged over both.
  const sampler = pid ? new ProcSampler(pid) : undefined;
  const busy = new CpuBusySampler();
  sampler?.start();
  busy.start();
  const r = await runLoad(group, { ...load, url: t.url, cpu: loadCpu });
  r.proc = sampler?.stop();
  r.cpuBusy = busy.stop();
  if (t.logFile && existsSync(t.logFile)) r.logBytesPerRequest = statSync(t.logFile).size / (r.ok * (1 + load.warmupS / load.durationS));
  return r;
}

/**
 * On a shared box other work steals the proxy's CPU. Before each run, wait
 * (up to QUIET_WAIT_S) for a second in which all CPUs together are at most
 * QUIET_BUSY busy; returns the last busy share seen.
 */
async function waitForQuiet() {
  let busy = 1;
  for (let i = 0; i < QUIET_WAIT_S && busy > QUIET_BUSY; i++) {
    const s = new CpuBusySampler();
    s.start();
    await new Promise((r) => setTimeout(r, 1000));
    const b = s.stop();
    if (b === null) return 0;
    const v = Object.values(b);
    busy = v.reduce((a, x) => a + x, 0) / v.length;
  }
  return busy;
}

function busyText(busy) {
  if (busy === null) return '';
  return `  busy ${Object.entries(busy).map(([cpu, b]) => `${cpu} ${Math.round(b * 100)}%`).join(' ')}`;
}

/** Every target must really proxy to the backend before it is measured. */
async function expectPong(t) {
  const res = await fetch(t.url);
  const body = await res.text();
  if (res.status !== 200 || !body.startsWith('pong from backend')) throw new Error(`${t.label} at ${t.url} answered ${res.status} ${body.slice(0, 80)}`);
}

function printHeader(load, rounds, targets, notes) {
  console.log(`outrigger bench: ${load.tool}, ${load.connections} connections, ${load.warmupS} s warm-up + ${load.durationS} s measured, ${rounds} rounds`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; pinning: ${group.pin ? 'proxy on CPU 1, load generator and backend on CPU 0' : 'off'}`);
  console.log(`targets: ${targets.map((t) => t.name).join(', ')}`);
  for (const n of notes) console.log(`note: ${n}`);
}

function report(targets, runs, load, rounds, notes) {
  const rows = summarize(targets, runs);
  console.log(`\n${table(rows)}\n`);
  const logged = rows.filter((r) => r.logBytesPerRequest);
  for (const r of logged) console.log(`access log: ${r.label} writes ~${Math.round(r.logBytesPerRequest)} bytes per request`);
  const on = rows.find((r) => r.name === 'outrigger');
  const off = rows.find((r) => r.name === 'outrigger-nolog');
  if (on?.rps && off?.rps) {
    const cost = (1 - on.rps / off.rps) * 100;
    const cpu = on.cpuPer1k && off.cpuPer1k ? `, CPU per request ${((on.cpuPer1k / off.cpuPer1k - 1) * 100).toFixed(1)} % more` : '';
    console.log(`access log cost: ${cost.toFixed(1)} % of req/s (${Math.round(off.rps)} off → ${Math.round(on.rps)} on)${cpu}${cost < 0 ? ' — negative: the noise of this run is larger than the cost' : ''}`);
  }
  let pass = true;
  if (on?.vsHttpProxy) {
    pass = on.vsHttpProxy >= TARGET_RATIO;
    console.log(`target: Outrigger (access log + metrics on) ≥ ${TARGET_RATIO}× node-http-proxy req/s → ${on.vsHttpProxy.toFixed(2)}× (paired per round: ${on.vsHttpProxyPaired?.toFixed(2)}×) ${pass ? 'PASS' : 'FAIL'}`);
  }
  const outDir = join(ROOT, '.bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model, pinned: group.pin, load, rounds, notes, rows, runs: Object.fromEntries(runs) }, null, 2));
  console.log(`raw results: ${file}`);
  return args.check && !pass ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`bench failed: ${err.stack ?? err}`);
  group.killAllNow();
  process.exit(1);
});
