#!/usr/bin/env node
/**
 * `npm run test:memory`: Outrigger under a real memory limit, as a pod runs
 * it. Creates a 256 MiB memory cgroup (v2 memory.max or v1
 * memory.limit_in_bytes, whichever this machine offers), starts the built
 * Outrigger inside it on the image's runtime (OUTRIGGER_NODE, else the Node
 * 24 of scripts/test-node-versions.sh) with the image's flags and ENV, and
 * checks that Outrigger itself reports that limit (process.constrainedMemory(),
 * logged at start). Then, at the same time: 1000 keep-alive client
 * connections sending requests, two 100 MiB uploads to a backend that
 * drains them, and two 100 MiB downloads from a backend that streams them to
 * clients reading at ~20 MiB/s. Passes when every request and body arrived
 * whole, the cgroup saw no OOM kill, its peak charge stayed under the limit,
 * and Outrigger then drains and exits 0 on SIGTERM.
 *
 * When no memory cgroup can be created here (no controller, no permission)
 * or the runtime is missing, it prints SKIP with the reason and exits 0
 * (exit 3 with --require-cgroup): it never passes silently. `--limit=SIZE`
 * checks another limit (with --limit=96M it fails: the OOM killer acts). Bounded: a
 * watchdog ends everything after WATCHDOG_S.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createMemoryCgroup, parseBytes } from '../../bench/lib/cgroup.js';
import { imageRuntime, acceptedFlags } from '../../bench/lib/runtimes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const limitArg = process.argv.find((a) => a.startsWith('--limit='));
/** 256 MiB, the chart's limit; `--limit=SIZE` checks another. */
const LIMIT = limitArg === undefined ? 256 * 1024 * 1024 : parseBytes(limitArg.slice('--limit='.length));
const BODY = 100 * 1024 * 1024;
const CLIENTS = 1000;
const LOAD_S = 15;
const READ_RATE = 20 * 1024 * 1024; // bytes per second, the slow-ish downloading client
const WATCHDOG_S = 240;
const MIB = 1024 * 1024;
const mib = (b) => `${(b / MIB).toFixed(0)} MiB`;

const requireCgroup = process.argv.includes('--require-cgroup');
const cache = process.env.NODE_VERSIONS_CACHE ?? join(homedir(), '.cache/outrigger-node-versions');
const nodeBin = process.env.OUTRIGGER_NODE ?? join(cache, '24/package/bin/node');

function skip(reason) {
  console.log(`SKIP: memory-limit check not run: ${reason}`);
  process.exit(requireCgroup ? 3 : 0);
}

function fail(message) {
  console.log(`FAIL: ${message}`);
  process.exitCode = 1;
}

/** drain: POST /drain reads and counts the body; stream: GET /stream sends BODY bytes; anything else: 12 bytes. */
function startBackend() {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = http.createServer((req, res) => {
    if (req.url === '/drain') {
      let n = 0;
      req.on('data', (d) => { n += d.length; });
      req.on('end', () => res.end(String(n)));
      req.on('error', () => res.destroy());
      return;
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-length': String(BODY) });
      let sent = 0;
      const pump = () => {
        while (sent < BODY) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => undefined);
      return pump();
    }
    res.end('hello world\n');
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startOutrigger(cg, backendPort) {
  const image = imageRuntime(ROOT);
  const { ok: flags, dropped } = acceptedFlags(nodeBin, image.flags);
  if (dropped.length) console.log(`note: ${nodeBin} rejects ${dropped.join(' ')}`);
  const w = cg.wrap(nodeBin, [...flags, 'dist/main.js']);
  const child = spawn(w.cmd, w.args, {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, ...image.env, BACKENDS: `127.0.0.1:${backendPort}`, HEALTH_CHECK_TYPE: 'tcp',
      PROXY_HOST: '127.0.0.1', PROXY_PORT: '0', ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0', ACCESS_LOG: 'true', LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '5000',
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const listening = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (!text.includes('"listening"')) return;
      try { resolve(JSON.parse(text)); } catch (err) { reject(err); }
    });
    child.once('exit', (code, signal) => reject(new Error(`outrigger exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { child, listening, flags, stderr: () => stderr };
}

/** CLIENTS keep-alive connections, each sending requests back to back for LOAD_S; counts answers by status. */
async function manyClients(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const until = Date.now() + LOAD_S * 1000;
  const counts = { ok: 0, other: 0, errors: 0 };
  const one = () => new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/ping', agent, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => { (res.statusCode === 200 ? counts.ok++ : counts.other++); resolve(); });
      res.on('error', () => { counts.errors++; resolve(); });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { counts.errors++; resolve(); });
  });
  await Promise.all(Array.from({ length: CLIENTS }, async () => { while (Date.now() < until) await one(); }));
  agent.destroy();
  return counts;
}

function upload(port) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/drain', method: 'POST', headers: { 'content-length': String(BODY) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, received: Number(text) }));
    });
    req.on('error', (err) => resolve({ status: 0, received: 0, error: err.message }));
    const chunk = Buffer.alloc(64 * 1024, 'u');
    let sent = 0;
    const pump = () => {
      while (sent < BODY) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Reads the 100 MiB answer at about READ_RATE: pauses whenever it is ahead of that pace. */
function slowDownload(port) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    http.get({ host: '127.0.0.1', port, path: '/stream' }, (res) => {
      let n = 0;
      res.on('data', (d) => {
        n += d.length;
        const ahead = n / READ_RATE * 1000 - (Date.now() - t0);
        if (ahead > 20) { res.pause(); setTimeout(() => res.resume(), ahead); }
      });
      res.on('end', () => resolve({ status: res.statusCode, received: n }));
      res.on('error', (err) => resolve({ status: res.statusCode, received: n, error: err.message }));
    }).on('error', (err) => resolve({ status: 0, received: 0, error: err.message }));
  });
}

async function main() {
  if (process.platform !== 'linux') skip(`cgroups are Linux only (platform ${process.platform})`);
  if (!existsSync(nodeBin)) skip(`no runtime at ${nodeBin} (set OUTRIGGER_NODE, or run scripts/test-node-versions.sh)`);
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: npm run build');
  const { cgroup: cg, reason } = createMemoryCgroup(LIMIT, 'outrigger-limit-check');
  if (cg === null) skip(`cannot create a ${mib(LIMIT)} memory cgroup: ${reason}`);
  let out;
  const backend = await startBackend();
  const cleanup = () => { try { out?.child.kill('SIGKILL'); } catch { /* gone */ } backend.close(); backend.closeAllConnections(); };
  const watchdog = setTimeout(() => { fail(`watchdog: not done within ${WATCHDOG_S} s`); cleanup(); process.exit(1); }, WATCHDOG_S * 1000);
  try {
    out = startOutrigger(cg, backend.address().port);
    const line = await out.listening;
    const port = line.proxy.port;
    console.log(`Outrigger on ${nodeBin} ${out.flags.join(' ')} in cgroup v${cg.version} ${cg.dir}, limit ${mib(cg.limit())}`);
    console.log(`Outrigger sees: memory limit ${line.memory?.limitBytes == null ? 'none' : mib(line.memory.limitBytes)}, V8 heap limit ${line.memory ? mib(line.memory.heapLimitBytes) : '?'}, ${line.acceptSockets} accept sockets`);
    if (line.memory?.limitBytes !== LIMIT) fail(`process.constrainedMemory() inside the cgroup is ${line.memory?.limitBytes}, not ${LIMIT}`);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = cg.usage();
    let peak = idle;
    const sampler = setInterval(() => { peak = Math.max(peak, cg.usage()); }, 100);
    const [clients, ups, downs] = await Promise.all([
      manyClients(port),
      Promise.all([upload(port), upload(port)]),
      Promise.all([slowDownload(port), slowDownload(port)]),
    ]);
    clearInterval(sampler);
    const kernelPeak = cg.peak();
    if (kernelPeak !== null) peak = Math.max(peak, kernelPeak);
    const oom = cg.oomKills();
    const alive = out.child.exitCode === null && out.child.signalCode === null;
    console.log(`${CLIENTS} clients for ${LOAD_S} s: ${clients.ok} answered 200, ${clients.other} other, ${clients.errors} errors`);
    console.log(`uploads: ${ups.map((u) => `${u.status} ${mib(u.received)}${u.error ? ` (${u.error})` : ''}`).join(', ')}; downloads: ${downs.map((d) => `${d.status} ${mib(d.received)}${d.error ? ` (${d.error})` : ''}`).join(', ')}`);
    console.log(`cgroup charge: idle ${mib(idle)}, peak ${mib(peak)} of ${mib(LIMIT)}; OOM kills ${oom}; Outrigger ${alive ? 'alive' : `DEAD (${out.child.exitCode ?? out.child.signalCode})`}`);
    if (clients.ok === 0 || clients.other + clients.errors > 0) fail(`${clients.other} non-200 answers and ${clients.errors} errors among the ${CLIENTS} clients' requests`);
    if (ups.some((u) => u.status !== 200 || u.received !== BODY)) fail('an upload did not reach the backend whole');
    if (downs.some((d) => d.status !== 200 || d.received !== BODY)) fail('a download did not arrive whole');
    if (oom > 0) fail(`${oom} OOM kill(s) in the cgroup`);
    if (!alive) fail('Outrigger died under load');
    if (peak >= LIMIT) fail(`peak charge ${mib(peak)} reached the limit`);
    if (alive) {
      const exited = new Promise((r) => out.child.once('exit', (code, signal) => r(code ?? signal)));
      out.child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) fail(`exit status after SIGTERM: ${code}; stderr: ${out.stderr()}`);
    }
    if (process.exitCode === undefined) console.log(`PASS: ${mib(LIMIT)} limit held: peak ${mib(peak)}, no OOM kill, every request and body whole`);
  } finally {
    clearTimeout(watchdog);
    cleanup();
    if (!(await cg.removeWhenEmpty())) console.log(`note: could not remove ${cg.dir}`);
  }
}

main().catch((err) => {
  console.log(`FAIL: ${err.stack ?? err}`);
  process.exit(1);
});
