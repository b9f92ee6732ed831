/**
 * CPU time and resident memory of one process, read from /proc while a load
 * run goes on. Where /proc is missing (not Linux) the numbers are null.
 */
import { readFileSync } from 'node:fs';
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

/** Samples RSS every periodMs and CPU time at start and stop. */
export class ProcSampler {
  constructor(pid, periodMs = 250) {
    this.pid = pid;
    this.periodMs = periodMs;
  }

  start() {
    this.t0 = performance.now();
    this.cpu0 = cpuSeconds(this.pid);
    this.rss = [];
    const sample = () => {
      const v = rssBytes(this.pid);
      if (v !== null) this.rss.push(v);
    };
    sample();
    this.timer = setInterval(sample, this.periodMs);
  }

  /** @returns {{ cpuCores: number|null, rssPeak: number|null, rssMean: number|null }} */
  stop() {
    clearInterval(this.timer);
    const cpu1 = cpuSeconds(this.pid);
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
