/**
 * One bounded load run against one URL with the chosen tool, in a child
 * process pinned to the load CPU. A watchdog kills the child if it overruns.
 * `window.start()` is called just before the measured part begins (after the
 * warm-up) and `window.stop()` just after it ends, so the caller can read the
 * proxy's CPU time over exactly the measured requests.
 */
import { fileURLToPath } from 'node:url';

const AUTOCANNON_WORKER = fileURLToPath(new URL('../load-autocannon.js', import.meta.url));
const WRK_SCRIPT = fileURLToPath(new URL('../wrk-report.lua', import.meta.url));
const GRACE_S = 30;
const MEASURING = 'BENCH-MEASURING\n';

/**
 * @param {import('./processes.js').ProcessGroup} group
 * @param {{ tool: 'autocannon'|'wrk', url: string, connections: number, threads: number, durationS: number, warmupS: number, cpu?: string, headers?: string[], env?: Record<string, string> }} o
 *   headers (wrk only): extra request headers; env: extra environment for the load tool
 * @param {{ start(): void, stop(): void }} window
 * @returns {Promise<{ requests: number, ok: number, rps: number, p50Ms: number, p99Ms: number, non2xx: number, errors: number, timeouts: number }>}
 */
export async function runLoad(group, o, window) {
  if (o.tool === 'wrk') {
    if (o.warmupS > 0) await runChild(group, 'wrk', wrkArgs(o, o.warmupS), o.cpu, o.warmupS, undefined, o.env);
    window.start();
    const out = await runChild(group, 'wrk', wrkArgs(o, o.durationS), o.cpu, o.durationS, undefined, o.env);
    window.stop();
    return parseWrk(out);
  }
  const spec = JSON.stringify({ url: o.url, connections: o.connections, durationS: o.durationS, warmupS: o.warmupS });
  let seen = '';
  const onData = (d) => {
    if (!seen.includes(MEASURING) && (seen += d).includes(MEASURING)) window.start();
  };
  const out = await runChild(group, process.execPath, [AUTOCANNON_WORKER, spec], o.cpu, o.durationS + o.warmupS, onData);
  window.stop();
  const r = JSON.parse(out.trim().split('\n').pop());
  return { ...r, requests: r.ok + r.non2xx };
}

function wrkArgs(o, seconds) {
  const headers = (o.headers ?? []).flatMap((h) => ['-H', h]);
  return [`-t${o.threads}`, `-c${o.connections}`, `-d${seconds}s`, '--timeout', '10s', ...headers, '-s', WRK_SCRIPT, o.url];
}

export function parseWrk(out) {
  const line = out.split('\n').find((l) => l.startsWith('BENCH-JSON '));
  if (line === undefined) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice('BENCH-JSON '.length));
  const ok = r.requests - r.non2xx;
  return {
    tool: 'wrk', requests: r.requests, ok, rps: ok / (r.durationUs / 1e6),
    p50Ms: r.p50Us / 1000, p90Ms: r.p90Us / 1000, p99Ms: r.p99Us / 1000, p999Ms: r.p999Us / 1000, maxMs: r.maxUs / 1000,
    non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, seconds: r.durationUs / 1e6,
  };
}

/** Runs `cmd args` pinned to cpu and resolves its stdout; killed when it overruns expectedS by GRACE_S. */
export function runChild(group, cmd, args, cpu, expectedS, onData = () => {}, env = undefined) {
  return new Promise((resolve, reject) => {
    const child = group.start(`load:${cmd}`, cmd, args, { cpu, env, stdout: 'pipe' });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      onData(d);
    });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), (expectedS + GRACE_S) * 1000);
    child.once('error', (err) => {
      clearTimeout(watchdog);
      reject(err);
    });
    child.once('close', (code, signal) => { // 'close': after stdout is drained, unlike 'exit'
      clearTimeout(watchdog);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${signal ? `killed by ${signal}` : `exited ${code}`}: ${child.stderrTail || out}`));
    });
  });
}
