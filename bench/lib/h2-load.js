/**
 * HTTP/2 load with h2load (Debian: nghttp2-client), h2c with prior
 * knowledge: a warm-up run, then the measured run of a fixed duration (-D),
 * `clients` connections × `streams` concurrent streams each, on one thread
 * pinned to the load CPU. h2load prints min/max/mean latency only, so p50,
 * p99 and p99.9 come from its per-request log (--log-file: start µs, status,
 * µs until the end of the response; status -1 for a failed stream).
 */
import { readFileSync, rmSync } from 'node:fs';
import { runChild } from './load.js';
import { LatencyHistogram } from './histogram.js';

/**
 * @param {import('./processes.js').ProcessGroup} group
 * @param {{ url: string, clients: number, streams: number, durationS: number, warmupS: number, cpu?: string, logFile: string }} o
 * @param {{ start(): void, stop(): void }} window called around the measured run
 */
export async function runH2load(group, o, window) {
  const base = ['-c', String(o.clients), '-m', String(o.streams)];
  if (o.warmupS > 0) await runChild(group, 'h2load', [...base, '-D', String(o.warmupS), o.url], o.cpu, o.warmupS);
  window.start();
  const out = await runChild(group, 'h2load', [...base, '-D', String(o.durationS), `--log-file=${o.logFile}`, o.url], o.cpu, o.durationS);
  window.stop();
  const r = parseH2load(out);
  const latency = latencyFromLog(o.logFile);
  rmSync(o.logFile, { force: true });
  return { ...r, ...latency };
}

/** A fixed number of requests (`-n`), e.g. over one connection to see how a proxy spreads its streams. */
export async function runH2loadCount(group, { url, clients, streams, requests, cpu }) {
  const out = await runChild(group, 'h2load', ['-c', String(clients), '-m', String(streams), '-n', String(requests), url], cpu, 60);
  return parseH2load(out);
}

/**
 * The summary lines: "finished in 10.00s, …", "requests: N total, … done, …
 * succeeded, … failed, … errored, … timeout" and "status codes: …". h2load
 * counts 2xx and 3xx as succeeded; failed includes non-2xx/3xx answers and
 * the errored streams (reset or connection lost).
 */
export function parseH2load(out) {
  const finished = /finished in ([\d.]+)(us|ms|s),/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !req || !codes) throw new Error(`h2load printed no result:\n${out.slice(-2000)}`);
  const seconds = Number(finished[1]) / { us: 1e6, ms: 1e3, s: 1 }[finished[2]];
  const [done, errored, timeouts] = [req[3], req[6], req[7]].map(Number);
  const ok = Math.min(done, Number(codes[1]));
  return {
    tool: 'h2load', requests: done, ok, rps: ok / seconds, seconds,
    non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]), errors: errored, timeouts,
  };
}

/** p50 / p90 / p99 / p99.9 / max in ms over the completed streams of one run's --log-file. */
function latencyFromLog(file) {
  const h = new LatencyHistogram();
  let max = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [, status, us] = line.split('\t');
    if (us === undefined || status === '-1') continue;
    h.record(Number(us));
    max = Math.max(max, Number(us));
  }
  const ms = (p) => h.percentile(p) / 1000;
  return { p50Ms: ms(50), p90Ms: ms(90), p99Ms: ms(99), p999Ms: ms(99.9), maxMs: max / 1000, logged: h.count };
}
