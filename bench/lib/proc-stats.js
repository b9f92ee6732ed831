/**
 * CPU time and resident memory of one process, read from /proc while a load
 * run goes on. Where /proc is missing (not Linux) the numbers are null.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of pid, in seconds, or null. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces; count from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** VmRSS of pid, in bytes, or null. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** utime + stime summed over pids, in seconds, or null when one of them is unreadable (gone). */
export function cpuSecondsOf(pids) {
  let sum = 0;
  for (const pid of pids) {
    const s = cpuSeconds(pid);
    if (s === null) return null;
    sum += s;
  }
  return sum;
}

/** Pids whose parent is pid (e.g. NGINX's workers under its master), from /proc; [] where unreadable. */
export function childPids(pid) {
  const out = [];
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
      } catch { /* exited meanwhile */ }
    }
  } catch { /* no /proc */ }
  return out;
}

/** Samples RSS (summed over the pids) every periodMs and CPU time (summed) at start and stop. */
export class ProcSampler {
  /** @param {number|number[]} pids */
  constructor(pids, periodMs = 250) {
    this.pids = [pids].flat();
    this.periodMs = periodMs;
  }

  start() {
    this.t0 = performance.now();
    this.cpu0 = cpuSecondsOf(this.pids);
    this.rss = [];
    const sample = () => {
      const v = this.pids.map(rssBytes);
      if (!v.includes(null)) this.rss.push(v.reduce((a, b) => a + b, 0));
    };
    sample();
    this.timer = setInterval(sample, this.periodMs);
  }

  /** @returns {{ cpuCores: number|null, rssPeak: number|null, rssMean: number|null }} */
  stop() {
    clearInterval(this.timer);
    const cpu1 = cpuSecondsOf(this.pids);
    const seconds = (performance.now() - this.t0) / 1000;
    const rss = this.rss;
    return {
      cpuCores: this.cpu0 === null || cpu1 === null ? null : (cpu1 - this.cpu0) / seconds,
      rssPeak: rss.length ? Math.max(...rss) : null,
      rssMean: rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : null,
    };
  }
}

/** Busy share (0..1) of each CPU between start() and stop(), from /proc/stat; null where unreadable. */
export class CpuBusySampler {
  start() {
    this.before = readCpuTimes();
  }

  /** @returns {Record<string, number>|null} e.g. { cpu0: 0.97, cpu1: 0.88 } */
  stop() {
    const after = readCpuTimes();
    if (this.before === null || after === null) return null;
    const out = {};
    for (const [cpu, [busy1, total1]] of Object.entries(after)) {
      const [busy0, total0] = this.before[cpu] ?? [0, 0];
      out[cpu] = total1 > total0 ? (busy1 - busy0) / (total1 - total0) : 0;
    }
    return out;
  }
}

function readCpuTimes() {
  try {
    const out = {};
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^(cpu\d+) (.*)$/.exec(line);
      if (!m) continue;
      const v = m[2].trim().split(/\s+/).map(Number);
      const idle = v[3] + (v[4] ?? 0); // idle + iowait
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time, already in user
      out[m[1]] = [total - idle, total];
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * On a shared box other work steals the proxy's CPU. Before each run, wait
 * (up to maxWaitS) for a second in which all CPUs together are at most
 * maxBusy busy; returns the last busy share seen.
 */
export async function waitForQuiet(maxBusy, maxWaitS) {
  let busy = 1;
  for (let i = 0; i < maxWaitS && busy > maxBusy; i++) {
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

/** "  busy cpu0 97% cpu1 88%" for a run's log line; '' where unknown. */
export function busyText(busy) {
  if (busy === null) return '';
  return `  busy ${Object.entries(busy).map(([cpu, b]) => `${cpu} ${Math.round(b * 100)}%`).join(' ')}`;
}
