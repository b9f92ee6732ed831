/**
 * One measurement of one target: wait for a quiet machine, then run the load
 * while sampling the proxy's process(es) from /proc — RSS peak and CPU cores
 * over warm-up and measurement, CPU µs per request over the measured window
 * only (utime + stime ÷ requests completed in it) — and the CPUs' busy share.
 */
import { ProcSampler, CpuBusySampler, cpuSecondsOf, waitForQuiet } from './proc-stats.js';

const QUIET_BUSY = 0.15;
const QUIET_WAIT_S = 30;

/**
 * @param {number|number[]|null} pid the proxy's process(es), or null (nothing to sample)
 * @param {(window: { start(): void, stop(): void }) => Promise<{ requests: number }>} load runs the load, calling window.start/stop around the measured part
 */
export async function measureOnce(pid, load) {
  const background = await waitForQuiet(QUIET_BUSY, QUIET_WAIT_S);
  if (background > QUIET_BUSY) console.log(`  (machine still ${Math.round(background * 100)} % busy after ${QUIET_WAIT_S} s; measuring anyway)`);
  const procs = pid ? [pid].flat() : [];
  const sampler = procs.length ? new ProcSampler(procs) : undefined;
  const busy = new CpuBusySampler();
  let [cpu0, cpu1] = [null, null];
  const window = { start: () => { cpu0 = cpuSecondsOf(procs); }, stop: () => { cpu1 = cpuSecondsOf(procs); } };
  sampler?.start();
  busy.start();
  const r = await load(window);
  r.proc = sampler?.stop();
  r.cpuBusy = busy.stop();
  r.cpuUsPerReq = procs.length && cpu0 !== null && cpu1 !== null && r.requests > 0 ? ((cpu1 - cpu0) * 1e6) / r.requests : null;
  return r;
}
