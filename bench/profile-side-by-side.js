/**
 * In one run, on the NGINX-backend topology (NGINX backend with a 12-byte body
 * and the load on CPU 0, the proxy alone on CPU 1): the floor
 * (bench/floor-proxy.js), the raw-`net` prototype (bench/floor-raw-net.js)
 * without and with --features, and Outrigger (access log to a file, metrics
 * on), each given the same fixed load (`h2load --h1 -n REQUESTS -c 64`):
 *
 * 1. CPU µs per request, unprofiled: utime + stime of the proxy from /proc
 *    before and after each measured batch; rounds in rotating order; medians.
 * 2. Profiles (`node --cpu-prof`) of the --profile targets, cut to the
 *    measured batch (startup and warm-up left out), drawn as flame graphs
 *    (bench/flamegraph.js) into --out, and bench/cpuprofile-compare.js's
 *    tables of Outrigger and of raw-net --features against the floor.
 * 3. With --callgrind: instructions per request under callgrind (lib/callgrind.js).
 *
 *   node bench/profile-side-by-side.js [--requests 30000] [--warmup 6000] [--rounds 3] [--connections 64]
 *        [--only floor,raw-net,raw-net-features,outrigger] [--profile floor,outrigger,raw-net-features]
 *        [--out docs/images] [--interval 1000] [--callgrind [--cache-sim]] [--quiet-wait 10] [--variant name=path/to/main.js ...]
 *
 * Needs `npm run build` (dist/main.js), nginx, h2load; loopback only; every
 * load is a fixed request count with a watchdog. Results also go to .bench-results/.
 */
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, tasksetUsable, freePort, waitForHttp } from './lib/processes.js';
import { cpuSecondsOf, waitForQuiet } from './lib/proc-stats.js';
import { startBackend } from './lib/backends.js';
import { runChild } from './lib/load.js';
import { parseH2load } from './lib/h2-load.js';
import { median } from './lib/report.js';
import { callgrindCommand, instructionsPerRequest } from './lib/callgrind.js';
import { flamegraph } from './flamegraph.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN_JS = join(ROOT, 'dist/main.js');
const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '30000' },
    warmup: { type: 'string', default: '6000' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    only: { type: 'string', default: 'floor,raw-net,raw-net-features,outrigger' },
    profile: { type: 'string', default: 'floor,outrigger,raw-net-features' },
    out: { type: 'string', default: join(ROOT, 'docs/images') },
    callgrind: { type: 'boolean', default: false },
    'cache-sim': { type: 'boolean', default: false }, // with --callgrind: L1 and last-level misses per request too
    'quiet-wait': { type: 'string', default: '10' },
    interval: { type: 'string', default: '1000' }, // --cpu-prof-interval, µs (V8's default)
    variant: { type: 'string', multiple: true, default: [] }, // name=script: Outrigger's settings, another build or wrapper
  },
});
const N = Number(args.requests);

/** What each target runs: script, arguments, environment, and whether its stdout (access log) goes to a file. */
const TARGETS = {
  floor: { label: 'floor (node:http + undici)', script: join(ROOT, 'bench/floor-proxy.js'), args: [], env: {}, log: false },
  'raw-net': { label: 'raw net (no features)', script: join(ROOT, 'bench/floor-raw-net.js'), args: [], env: {}, log: false },
  'raw-net-features': { label: 'raw net --features (XFF, request id, round robin, prom-client, pino)', script: join(ROOT, 'bench/floor-raw-net.js'), args: ['--features'], env: {}, log: true },
  outrigger: {
    label: 'Outrigger (access log on, metrics on)', script: MAIN_JS, args: [], log: true,
    env: { HEALTH_CHECK_TYPE: 'tcp', ACCESS_LOG: 'true', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '0' },
  },
};

// --variant name=path: started like Outrigger (same environment), e.g. a build of another commit.
for (const spec of args.variant) {
  const at = spec.indexOf('=');
  if (at <= 0) throw new Error(`--variant ${spec}: expected name=path/to/main.js`);
  const name = spec.slice(0, at);
  TARGETS[name] = { ...TARGETS.outrigger, label: `${name} (${spec.slice(at + 1)})`, script: resolve(spec.slice(at + 1)) };
}

const group = new ProcessGroup({ pin: tasksetUsable() && availableParallelism() >= 2 });
const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];
const dir = mkdtempSync(join(tmpdir(), 'outrigger-profile-'));
process.on('exit', () => {
  group.killAllNow();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Starts one target on the proxy CPU; `wrap` = [cmd, args] in front of node (callgrind). */
async function start(name, backendUrl, { nodeArgs = [], wrap } = {}) {
  const t = TARGETS[name];
  const [port, adminPort] = [await freePort(), await freePort()];
  const fd = openSync(t.log ? join(dir, `${name}.log`) : '/dev/null', 'a');
  const [cmd, pre] = wrap ?? [process.execPath, []];
  const child = group.start(name, cmd, [...pre, ...(wrap ? [process.execPath] : []), ...nodeArgs, t.script, ...t.args], {
    cpu: proxyCpu, stdout: fd, cleanEnv: true,
    env: { BACKENDS: backendUrl, PROXY_HOST: '127.0.0.1', PROXY_PORT: String(port), ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), ...t.env },
  });
  closeSync(fd);
  await waitForHttp(`http://127.0.0.1:${adminPort}/readyz`, { child, timeoutMs: wrap ? 180_000 : 15_000 });
  const url = `http://127.0.0.1:${port}/ping`;
  const check = await fetch(url);
  const body = await check.text();
  if (check.status !== 200 || body !== 'hello world\n') throw new Error(`${name} answered ${check.status} ${body.slice(0, 80)}`);
  return { name, child, url };
}

/** h2load --h1 -n n -c C against url, pinned to the load CPU; every request must succeed. */
async function load(url, n, expectedS = 60) {
  const out = await runChild(group, 'h2load', ['--h1', '-n', String(n), '-c', String(Math.min(Number(args.connections), n)), url], loadCpu, expectedS);
  const r = parseH2load(out);
  if (r.ok !== n) throw new Error(`h2load: ${r.ok} of ${n} requests succeeded (${r.errors} errored, ${r.non2xx} non-2xx)`);
  return r;
}

/** Phase 1: CPU µs per request, unprofiled, rounds in rotating order. */
async function cpuPhase(names, backendUrl) {
  const procs = [];
  for (const name of names) procs.push(await start(name, backendUrl));
  for (const p of procs) await load(p.url, Number(args.warmup));
  const us = new Map(names.map((n) => [n, []]));
  for (let round = 0; round < Number(args.rounds); round++) {
    for (let i = 0; i < procs.length; i++) {
      const p = procs[(i + round) % procs.length];
      const busy = await waitForQuiet(0.15, Number(args['quiet-wait']));
      const c0 = cpuSecondsOf([p.child.pid]);
      const r = await load(p.url, N);
      const v = ((cpuSecondsOf([p.child.pid]) - c0) * 1e6) / r.ok;
      us.get(p.name).push(v);
      console.log(`  round ${round + 1}  ${TARGETS[p.name].label.padEnd(72)} ${v.toFixed(1).padStart(6)} µs/req  ${Math.round(r.rps)} req/s${busy > 0.15 ? `  (machine ${Math.round(busy * 100)} % busy before)` : ''}`);
    }
  }
  for (const p of procs) await group.stop(p.child, 15_000);
  return us;
}

/** The samples of a profile inside [t0, t1] (µs, the monotonic clock V8 and process.hrtime share). */
function cut(profile, t0, t1) {
  if (t0 < profile.startTime || t1 > profile.endTime) throw new Error(`window ${t0}–${t1} outside the profile (${profile.startTime}–${profile.endTime}): clocks differ?`);
  const samples = [];
  const timeDeltas = [];
  let t = profile.startTime;
  let last = t0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    if (t < t0 || t > t1) return;
    samples.push(id);
    timeDeltas.push(t - last);
    last = t;
  });
  return { ...profile, startTime: t0, endTime: t1, samples, timeDeltas };
}

/** Phase 2: one profiled batch per target, cut to it, drawn, and compared with the floor's. */
async function profilePhase(names, backendUrl, resultsDir) {
  const files = new Map();
  for (const name of names) {
    const profDir = join(dir, `prof-${name}`);
    const p = await start(name, backendUrl, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${args.interval}`] });
    await load(p.url, Number(args.warmup));
    await waitForQuiet(0.15, Number(args['quiet-wait']));
    const t0 = Number(process.hrtime.bigint() / 1000n);
    const r = await load(p.url, N);
    const t1 = Number(process.hrtime.bigint() / 1000n);
    await group.stop(p.child, 20_000);
    const [file] = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`${name} wrote no profile (exit on SIGTERM?)`);
    const profile = cut(JSON.parse(readFileSync(join(profDir, file), 'utf8')), t0, t1);
    const kept = join(resultsDir, `${name}-h1.cpuprofile`);
    writeFileSync(kept, JSON.stringify(profile));
    files.set(name, kept);
    const title = `${TARGETS[name].label}: HTTP/1.1 through the proxy on CPU 1, NGINX backend (12-byte body), h2load --h1 -c ${args.connections} on CPU 0`;
    const svg = flamegraph(profile, { requests: r.ok, title });
    const out = join(args.out, `flame-${name}-h1.svg`);
    writeFileSync(out, svg);
    console.log(`  ${name}: ${profile.samples.length} samples over ${r.ok} requests → ${out} (${Math.round(svg.length / 1024)} KB)`);
  }
  const compare = [];
  for (const other of ['outrigger', 'raw-net-features', 'raw-net']) {
    if (!files.has(other) || !files.has('floor')) continue;
    compare.push(execFileSync(process.execPath, [join(ROOT, 'bench/cpuprofile-compare.js'), files.get(other), files.get('floor'), String(N), '25'], { encoding: 'utf8' }));
  }
  return compare.join('\n');
}

/** Phase 3: instructions per request under callgrind, one target at a time. */
async function callgrindPhase(names, backendUrl) {
  const ir = new Map();
  for (const name of names) {
    const outFile = join(dir, `cg-${name}.out`);
    const p = await start(name, backendUrl, { wrap: callgrindCommand(outFile, { cacheSim: args['cache-sim'] }) });
    const r = await instructionsPerRequest(p.child.pid, outFile, (n) => load(p.url, n, 600));
    ir.set(name, r.irPerRequest);
    console.log(`  ${TARGETS[name].label.padEnd(72)} ${Math.round(r.irPerRequest / 1000)} k instructions per request (${r.requests} counted)`);
    if (args['cache-sim']) console.log(`    per request: ${Object.entries(r.perRequest).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
    await group.stop(p.child, 30_000);
  }
  return ir;
}

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error('dist/main.js is missing: run `npm run build`');
  const names = args.only.split(',');
  for (const n of [...names, ...args.profile.split(',').filter(Boolean)]) if (!TARGETS[n]) throw new Error(`unknown target ${n} (${Object.keys(TARGETS).join(', ')})`);
  const resultsDir = join(ROOT, '.bench-results', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(resultsDir, { recursive: true });
  mkdirSync(args.out, { recursive: true });
  const command = `node bench/profile-side-by-side.js ${process.argv.slice(2).join(' ')}`.trim();
  const backend = await startBackend('nginx', { group, dir, cpu: loadCpu, backendJs: '' });
  console.log(`profile side by side: h2load --h1 -n ${N} -c ${args.connections} (warm-up ${args.warmup}), ${args.rounds} rounds\ncommand: ${command}`);
  console.log(`backend: ${backend.label}\nmachine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; pinning: ${group.pin ? 'proxy on CPU 1, h2load and backend on CPU 0' : 'off'}\n`);
  const us = await cpuPhase(names, backend.url);
  const ir = args.callgrind ? await callgrindPhase(names, backend.url) : new Map();
  const floor = median(us.get('floor') ?? []);
  let report = `command: ${command}\nnode ${process.version}, ${cpus()[0]?.model ?? ''}\n\n| target | CPU µs/req (median) | rounds | × floor |${args.callgrind ? ' instructions/req |' : ''}\n|---|---:|---:|---:|${args.callgrind ? '---:|' : ''}\n`;
  for (const name of names) {
    const m = median(us.get(name));
    report += `| ${TARGETS[name].label} | ${m.toFixed(1)} | ${us.get(name).map((v) => v.toFixed(1)).join(' / ')} | ${floor ? (m / floor).toFixed(2) : '—'}× |${args.callgrind ? ` ${ir.has(name) ? `${Math.round(ir.get(name) / 1000)} k` : '—'} |` : ''}\n`;
  }
  console.log(`\n${report}`);
  const profiled = args.profile.split(',').filter(Boolean);
  const compare = profiled.length ? await profilePhase(profiled, backend.url, resultsDir) : '';
  console.log(compare);
  writeFileSync(join(resultsDir, 'report.md'), `${report}\n${compare}`);
  console.log(`raw results and cut profiles: ${resultsDir}`);
  await group.stopAll();
}

main().then(() => process.exit(0), (err) => {
  console.error(`profile-side-by-side failed: ${err.stack ?? err}`);
  process.exit(1);
});
