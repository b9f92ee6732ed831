/**
 * Instructions per request with callgrind (docs/benchmarks.md, "How it was
 * measured"): the proxy runs under `valgrind --tool=callgrind` with
 * instrumentation off; after a warm-up it is switched on, the first
 * `settle` requests are not counted (counters zeroed after them), then
 * `count` requests are, and the dump's total Ir ÷ count is the figure.
 * Independent of other work on the machine, though garbage collections
 * and JIT tiering still move it by about 10 % between runs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * valgrind and its flags, to put in front of `node script`. `cacheSim` adds
 * callgrind's cache simulation: L1 instruction and data misses (I1mr, D1mr,
 * D1mw) and last-level misses (ILmr, DLmr, DLmw) per request besides Ir.
 */
export function callgrindCommand(outFile, { cacheSim = false } = {}) {
  return ['valgrind', ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', '--dump-instr=no', ...(cacheSim ? ['--cache-sim=yes'] : []), `--callgrind-out-file=${outFile}`]];
}

/**
 * @param {number} pid the valgrind process (taskset execs it, so the proxy's pid)
 * @param {string} outFile the --callgrind-out-file of that process
 * @param {(n: number) => Promise<{ ok: number }>} load runs n requests through the proxy
 * @returns {Promise<{ irPerRequest: number, requests: number, perRequest: Record<string, number> }>}
 */
export async function instructionsPerRequest(pid, outFile, load, { warmup = 6000, settle = 2000, count = 4000 } = {}) {
  await load(warmup);
  control(['-i', 'on', String(pid)]);
  await load(settle);
  control(['-z', String(pid)]);
  const r = await load(count);
  control(['-d', String(pid)]);
  control(['-i', 'off', String(pid)]);
  const dumps = readdirSync(dirname(outFile)).filter((f) => f.startsWith(`${basename(outFile)}.`)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  if (dumps.length === 0) throw new Error(`callgrind wrote no dump next to ${outFile}`);
  const text = readFileSync(join(dirname(outFile), dumps.at(-1)), 'utf8');
  const names = /^events: (.*)$/m.exec(text)?.[1].split(' ') ?? [];
  const totals = /^(?:totals|summary): (.*)$/m.exec(text)?.[1].split(' ').map(Number);
  if (totals === undefined) throw new Error(`no totals in ${dumps.at(-1)}`);
  /** Every counted event per request (Ir first; with the cache simulation, the misses too). */
  const perRequest = Object.fromEntries(names.map((name, i) => [name, (totals[i] ?? 0) / r.ok]));
  return { irPerRequest: totals[0] / r.ok, requests: r.ok, perRequest };
}

function control(args) {
  execFileSync('callgrind_control', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}
