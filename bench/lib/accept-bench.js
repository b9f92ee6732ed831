/**
 * `npm run bench -- --accept`: do new clients get accepted while the proxy
 * is saturated? An NGINX backend and wrk (one thread, --connections 1000,
 * wrk's own 2 s request timeout) on CPU 0; each target alone on CPU 1:
 * Outrigger on every --node-bin runtime with the image's flags, HAProxy
 * (1 thread) and NGINX (1 worker). While wrk runs, the kernel's table is
 * read every 100 ms: connections established to the port and those still
 * waiting in its accept queue(s). Reported per target: the time until every
 * connection was accepted (from wrk's start), the most that waited at once,
 * the host's listen-queue overflows in the run, wrk's timeouts and req/s.
 * Target: all accepted within 1 s, 0 timeouts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBackend } from './backends.js';
import { runChild, parseWrk } from './load.js';
import { outriggerTarget, haproxyTarget, nginxTarget } from './targets.js';
import { portState, listenOverflows } from './tcp-table.js';
import { imageRuntime, runtimes, acceptedFlags } from './runtimes.js';
import { waitForQuiet } from './proc-stats.js';
import { since } from './processes.js';

const WRK_SCRIPT = fileURLToPath(new URL('../wrk-report.lua', import.meta.url));
const SAMPLE_MS = 100;
const ACCEPT_TARGET_S = 1;

/** Outrigger per runtime with the image's flags and ENV, then the rivals. */
export function footprintTargets({ root, mainJs, nodeBins, rivals = ['haproxy', 'nginx'], notes, accessLog = true, extraEnv = {} }) {
  const image = imageRuntime(root);
  const out = [];
  for (const rt of runtimes(nodeBins)) {
    const { ok, dropped } = acceptedFlags(rt.bin, image.flags);
    if (dropped.length) notes.push(`Node ${rt.label} rejects ${dropped.join(' ')}: run without it`);
    out.push(outriggerTarget({
      name: `outrigger-node${rt.label}`, label: `Outrigger, Node ${rt.label}${ok.length ? ` (${ok.join(' ')})` : ''}`, mainJs, accessLog,
      node: rt.bin, nodeArgs: ok, env: { ...image.env, BENCH_STDOUT: '/dev/null', ...extraEnv },
    }));
  }
  if (rivals.includes('haproxy')) out.push(haproxyTarget({ optional: true }));
  if (rivals.includes('nginx')) out.push(nginxTarget({ optional: true }));
  return out;
}

export async function runAcceptBench({ args, group, dir, mainJs, root, commandLine }) {
  const notes = [];
  const connections = Number(args.connections ?? 1000);
  const durationS = Number(args.duration);
  const rounds = Number(args.rounds);
  const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];
  if (!group.pin) notes.push('taskset unavailable or fewer than 2 CPUs: processes are not pinned');
  const backend = await startBackend('nginx', { group, dir, cpu: loadCpu });
  const ctx = { group, dir, backendUrl: backend.url, proxyCpu };
  const wanted = footprintTargets({ root, mainJs, nodeBins: args['node-bin'], notes, rivals: args['no-rivals'] ? [] : undefined });
  console.log(`outrigger accept bench: wrk -t1 -c${connections} -d${durationS}s (request timeout 2 s), ${rounds} round(s), target: all accepted within ${ACCEPT_TARGET_S} s and no timeouts`);
  console.log(`command: ${commandLine}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}); backend: ${backend.label}; pinning: ${group.pin ? 'target on CPU 1, wrk and backend on CPU 0' : 'off'}`);
  const rows = [];
  for (let round = 0; round < rounds; round++) {
    for (const t of wanted) {
      const targetDir = join(dir, `r${round}-${t.name}`.replace(/[^\w.-]/g, '_'));
      mkdirSync(targetDir, { recursive: true });
      const stop = since(group);
      const pid = await startOne(t, { ...ctx, dir: targetDir }, notes);
      if (pid === undefined) { await stop(); continue; }
      const port = Number(new URL(t.url).port);
      await waitForQuiet(0.15, 15);
      const r = await measure(group, { url: t.url, port, connections, durationS, cpu: loadCpu });
      rows.push({ label: t.label, round: round + 1, ...r });
      console.log(`  ${t.label.padEnd(52)} all accepted ${r.acceptAllS === null ? `NEVER (${r.acceptedMax} of ${connections})` : `after ${r.acceptAllS.toFixed(1)} s`}, at most ${r.queuedMax} waiting, ${r.timeouts} timeouts, ${Math.round(r.rps)} req/s`);
      await stop();
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\n${acceptTable(rows, connections)}\n`);
  const pass = rows.every((r) => !r.label.startsWith('Outrigger') || (r.acceptAllS !== null && r.acceptAllS <= ACCEPT_TARGET_S && r.timeouts === 0));
  console.log(`target (Outrigger rows): every connection accepted within ${ACCEPT_TARGET_S} s, no wrk timeouts → ${pass ? 'PASS' : 'FAIL'}`);
  return args.check && !pass ? 1 : 0;
}

async function startOne(t, ctx, notes) {
  try {
    return await t.start(ctx);
  } catch (err) {
    if (t.optional !== true) throw err;
    notes.push(`${t.name} did not start, skipped: ${String(err.message).split('\n')[0].slice(0, 200)}`);
    return undefined;
  }
}

/** One wrk run with the port's table sampled every SAMPLE_MS. */
async function measure(group, { url, port, connections, durationS, cpu }) {
  const overflows0 = listenOverflows();
  const samples = [];
  const t0 = performance.now();
  const timer = setInterval(() => samples.push({ t: (performance.now() - t0) / 1000, ...portState(port) }), SAMPLE_MS);
  let out;
  try {
    out = await runChild(group, 'wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '2s', '-s', WRK_SCRIPT, url], cpu, durationS);
  } finally {
    clearInterval(timer);
  }
  const overflows1 = listenOverflows();
  const w = parseWrk(out);
  const accepted = (s) => s.established - s.queued;
  const all = samples.find((s) => accepted(s) >= connections);
  return {
    acceptAllS: all === undefined ? null : all.t,
    acceptedAt1s: accepted(samples.find((s) => s.t >= 1) ?? { established: 0, queued: 0 }),
    acceptedMax: Math.max(0, ...samples.map(accepted)),
    queuedMax: Math.max(0, ...samples.map((s) => s.queued)),
    queuedAtEnd: samples.at(-1)?.queued ?? 0,
    listeners: Math.max(0, ...samples.map((s) => s.listeners)),
    overflows: overflows0 === null || overflows1 === null ? null : overflows1 - overflows0,
    rps: w.rps, p99Ms: w.p99Ms, timeouts: w.timeouts, errors: w.errors,
  };
}

export function acceptTable(rows, connections) {
  const head = `| target | listening sockets | all ${connections} accepted after | accepted at 1 s | most waiting in the accept queue | waiting at the end | listen-queue overflows (host) | wrk timeouts | req/s | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`;
  const lines = rows.map((r) => `| ${r.label}${r.round > 1 ? ` (round ${r.round})` : ''} | ${r.listeners} | ${r.acceptAllS === null ? `never (max ${r.acceptedMax})` : `${r.acceptAllS.toFixed(1)} s`} | ${r.acceptedAt1s} | ${r.queuedMax} | ${r.queuedAtEnd} | ${r.overflows ?? '—'} | ${r.timeouts} | ${Math.round(r.rps)} | ${r.p99Ms.toFixed(0)} |`);
  return [head, ...lines].join('\n');
}
