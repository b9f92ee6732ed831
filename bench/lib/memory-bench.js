/**
 * `npm run bench -- --memory`: resident memory of each target, idle, under
 * wrk at each --levels connection count (64, 256, 1000), and --after-load
 * seconds after the load ends, with req/s and p99 at each level. Targets:
 * Outrigger on every --node-bin runtime with the image's flags and ENV
 * (lib/runtimes.js), any `--flags [RUNTIME:]LABEL=NODE_FLAGS` variant (the
 * complete node flag list for that run, plus any NAME=VALUE words as its
 * environment; RUNTIME defaults to the last --node-bin), HAProxy (1 thread) and NGINX (1 worker; its worker measured).
 * Each target starts fresh, pinned to CPU 1; wrk and the NGINX backend run on
 * CPU 0. With --cgroup LIMIT every target runs inside its own memory cgroup
 * with that limit, as in a pod: the table then also shows the cgroup's peak
 * charge and any OOM kill, and Outrigger logs the limit it sees.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startBackend } from './backends.js';
import { runChild, parseWrk } from './load.js';
import { outriggerTarget } from './targets.js';
import { footprintTargets } from './accept-bench.js';
import { imageRuntime, runtimes } from './runtimes.js';
import { rssBytes, waitForQuiet } from './proc-stats.js';
import { since } from './processes.js';
import { createMemoryCgroup, parseBytes } from './cgroup.js';
import { memoryTable, TARGETS } from './memory-report.js';

const WRK_SCRIPT = fileURLToPath(new URL('../wrk-report.lua', import.meta.url));
const MIB = 1024 * 1024;
const SAMPLE_MS = 250;

export async function runMemoryBench({ args, group, dir, mainJs, root, commandLine }) {
  const notes = [];
  const levels = (args.levels ?? '64,256,1000').split(',').map(Number);
  const o = { durationS: Number(args.duration), idleS: Number(args.idle ?? 10), afterS: Number(args['after-load'] ?? 60), levels };
  const limit = args.cgroup === undefined ? undefined : parseBytes(args.cgroup);
  const [loadCpu, proxyCpu] = group.pin ? ['0', '1'] : [undefined, undefined];
  if (!group.pin) notes.push('taskset unavailable or fewer than 2 CPUs: processes are not pinned');
  const backend = await startBackend('nginx', { group, dir, cpu: loadCpu });
  const targets = [...footprintTargets({ root, mainJs, nodeBins: args['node-bin'], notes, rivals: args['no-rivals'] ? [] : undefined }), ...flagVariants(args, root, mainJs)];
  console.log(`outrigger memory bench: wrk -t1 at ${levels.join(', ')} connections, ${o.durationS} s each; idle ${o.idleS} s before; last sample ${o.afterS} s after the load${limit ? `; each target in a memory cgroup limited to ${args.cgroup}` : '; no cgroup limit (host)'}`);
  console.log(`command: ${commandLine}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}); backend: ${backend.label}; pinning: ${group.pin ? 'target on CPU 1, wrk and backend on CPU 0' : 'off'}`);
  const rows = [];
  const rounds = Number(args.rounds);
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const row = await measureTarget(t, { group, dir: join(dir, `r${round}-${t.name}`.replace(/[^\w.-]/g, '_')), backendUrl: backend.url, proxyCpu, loadCpu, limit, notes, o });
      if (row === null) continue;
      rows.push({ ...row, round: round + 1 });
      console.log(`  ${t.label}: idle ${mib(row.idle)}, ${row.levels.map((l) => `-c${l.connections} peak ${mib(l.peak)} (${Math.round(l.rps)} req/s)`).join(', ')}, after ${o.afterS} s ${mib(row.after)}${row.cgroup ? `; cgroup idle ${mib(row.cgroup.idle)}, peak ${mib(row.cgroup.peak)}, after ${mib(row.cgroup.after)}, OOM kills ${row.cgroup.oomKills}` : ''}${row.died ? ' — DIED' : ''}`);
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\n${memoryTable(rows, o)}\n`);
  console.log(`targets for Outrigger: idle ≤ ${TARGETS.idle} MiB, ≤ ${TARGETS.c256} MiB at -c256, ≤ ${TARGETS.c1000} MiB at -c1000, back under ${TARGETS.back}× idle within ${o.afterS} s`);
  return 0;
}

/** `--flags [RUNTIME:]LABEL=NODE_FLAGS`: Outrigger with exactly these node flags (image ENV kept). */
function flagVariants(args, root, mainJs) {
  const all = runtimes(args['node-bin']);
  const image = imageRuntime(root);
  return args.flags.map((spec) => {
    const m = /^(?:([^:=]+):)?([^=]+)=(.*)$/.exec(spec);
    if (!m) throw new Error(`--flags wants [RUNTIME:]LABEL=NODE_FLAGS, got ${spec}`);
    const rt = m[1] === undefined ? all.at(-1) : all.find((r) => r.label === m[1]);
    if (rt === undefined) throw new Error(`--flags ${spec}: no --node-bin labelled ${m[1]}`);
    // NAME=VALUE words are environment (e.g. MALLOC_ARENA_MAX=2); the rest are node flags.
    const words = m[3].split(/\s+/).filter(Boolean);
    const flags = words.filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
    const env = Object.fromEntries(words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    return outriggerTarget({
      name: `outrigger-node${rt.label}-${m[2]}`, label: `Outrigger, Node ${rt.label}, ${m[2]} (${words.join(' ') || 'no flags'})`, mainJs, accessLog: true,
      node: rt.bin, nodeArgs: flags, env: { ...image.env, BENCH_STDOUT: '/dev/null', ...env },
    });
  });
}

async function measureTarget(t, { group, dir, backendUrl, proxyCpu, loadCpu, limit, notes, o }) {
  mkdirSync(dir, { recursive: true });
  let cg = null;
  if (limit !== undefined) {
    const made = createMemoryCgroup(limit, 'outrigger-bench');
    if (made.cgroup === null) throw new Error(`--cgroup: cannot create a memory cgroup here: ${made.reason}`);
    cg = made.cgroup;
  }
  const runGroup = cg === null ? group : inCgroup(group, cg);
  const stop = since(group);
  try {
    let pids;
    try {
      pids = [await t.start({ group: runGroup, dir, backendUrl, proxyCpu })].flat();
    } catch (err) {
      if (t.optional !== true) throw err;
      notes.push(`${t.name} did not start, skipped: ${String(err.message).split('\n')[0].slice(0, 200)}`);
      return null;
    }
    if (cg !== null) notes.push(`${t.label}: in cgroup v${cg.version}, limit ${mib(cg.limit())}${cgroupNote(t, pids, cg)}`);
    const rss = () => sum(pids.map(rssBytes));
    await sleep(o.idleS * 1000);
    const idle = rss();
    const cgIdle = cg?.usage();
    const levels = [];
    for (const connections of o.levels) {
      await waitForQuiet(0.15, 10);
      levels.push(await underLoad(group, { url: t.url, connections, durationS: o.durationS, cpu: loadCpu, rss }));
    }
    const curve = [];
    for (let s = 1; s <= o.afterS; s++) {
      await sleep(1000);
      curve.push(rss());
    }
    const after = curve.at(-1) ?? rss();
    const backAt = curve.findIndex((v) => v !== null && idle !== null && v <= 1.2 * idle);
    const died = pids.some((p) => rssBytes(p) === null);
    const cgroup = cg === null ? undefined : { limit: cg.limit(), idle: cgIdle, peak: cg.peak(), after: cg.usage(), oomKills: cg.oomKills(), version: cg.version };
    return { label: t.label, name: t.name, idle, levels, after, backUnderS: backAt < 0 ? null : backAt + 1, died, cgroup };
  } finally {
    await stop();
    if (cg !== null && !(await cg.removeWhenEmpty())) notes.push(`cgroup ${cg.dir} could not be removed`);
  }
}

/** One wrk run at `connections`, RSS sampled every SAMPLE_MS: peak, and steady = median of the second half. */
async function underLoad(group, { url, connections, durationS, cpu, rss }) {
  const samples = [];
  const timer = setInterval(() => { const v = rss(); if (v !== null) samples.push(v); }, SAMPLE_MS);
  let out;
  try {
    out = await runChild(group, 'wrk', ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '-s', WRK_SCRIPT, url], cpu, durationS);
  } finally {
    clearInterval(timer);
  }
  const w = parseWrk(out);
  const half = samples.slice(Math.floor(samples.length / 2)).sort((a, b) => a - b);
  return { connections, peak: samples.length ? Math.max(...samples) : null, steady: half.length ? half[Math.floor(half.length / 2)] : null, rps: w.rps, p99Ms: w.p99Ms, timeouts: w.timeouts, errors: w.errors };
}

/** The same ProcessGroup, but every process it starts first joins cg (the target and anything it forks). */
function inCgroup(group, cg) {
  return Object.create(group, {
    start: { value: (name, cmd, args, opts) => { const w = cg.wrap(cmd, args); return group.start(name, w.cmd, w.args, opts); } },
  });
}

function cgroupNote(t, pids, cg) {
  const inside = pids.every((p) => { try { return readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(cg.dir.split('/').pop()); } catch { return false; } });
  return inside ? '' : ' — but the measured process is NOT in it';
}

function sum(values) {
  return values.includes(null) ? null : values.reduce((a, b) => a + b, 0);
}

export function mib(bytes) {
  return bytes === null || bytes === undefined ? '—' : `${Math.round(bytes / MIB)} MiB`;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
