/**
 * Every process the benchmark starts goes through one ProcessGroup, pinned
 * to a CPU with taskset where that works, and killed by pid at the end —
 * on success, on error and on Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** True when `taskset -c 0 true` works (Linux with util-linux, and at least 2 CPUs make it useful). */
export function tasksetUsable() {
  const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Absolute path of an executable, from PATH and then the sbin directories
 * (Debian installs nginx and haproxy as /usr/sbin/…, outside a normal user's
 * PATH); null when there is none.
 */
export function findBin(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch { /* not here */ }
  }
  return null;
}

export class ProcessGroup {
  /** @param {{ pin: boolean }} options */
  constructor({ pin }) {
    this.pin = pin;
    /** @type {Set<import('node:child_process').ChildProcess>} */
    this.children = new Set();
    /** @type {Array<{ pid: number, comm: string }>} */
    this.adopted = [];
  }

  /**
   * Also kills pid at the end: a process a child forked (NGINX's worker),
   * which would outlive a master killed with SIGKILL. Killed only while its
   * /proc/<pid>/comm is still `comm`, so a reused pid is left alone.
   */
  adopt(pid, comm) {
    this.adopted.push({ pid, comm });
  }

  /**
   * Starts `cmd args` on `cpu` (a taskset list such as "1"), or unpinned when
   * pinning is off or cpu is undefined. taskset execs the command, so the
   * child's pid is the command's pid (what /proc sampling needs). cleanEnv
   * passes only PATH and HOME from this process, so a developer's shell
   * settings (MODE, BACKENDS, …) cannot leak into a measured process.
   */
  start(name, cmd, args, { cpu, env, cleanEnv = false, stdout = 'ignore', stderr = 'pipe', cwd } = {}) {
    const pinned = this.pin && cpu !== undefined;
    const base = cleanEnv ? { PATH: process.env.PATH, HOME: process.env.HOME } : process.env;
    const child = spawn(pinned ? 'taskset' : cmd, pinned ? ['-c', cpu, cmd, ...args] : args, {
      cwd, env: { ...base, ...env }, stdio: ['ignore', stdout, stderr],
    });
    child.benchName = name;
    child.stderrTail = '';
    child.stderr?.on('data', (chunk) => { child.stderrTail = (child.stderrTail + chunk).slice(-4000); });
    child.stdout?.on?.('data', () => {});
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', (err) => { child.spawnError = err; });
    return child;
  }

  /** Stops one child: SIGTERM, then SIGKILL after graceMs. */
  async stop(child, graceMs = 2000) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async stopAll() {
    await Promise.all([...this.children].map((c) => this.stop(c)));
    this.killAdopted();
  }

  killAdopted() {
    for (const { pid, comm } of this.adopted.splice(0)) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) process.kill(pid, 'SIGKILL');
      } catch { /* already gone */ }
    }
  }

  /** Last-resort synchronous kill, for process 'exit'. */
  killAllNow() {
    for (const c of this.children) {
      try { c.kill('SIGKILL'); } catch { /* already gone */ }
    }
    this.killAdopted();
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; the race is acceptable on a bench box). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `GET url` until it answers `status`, or throws after timeoutMs (with the child's stderr). */
export async function waitForHttp(url, { status = 200, timeoutMs = 15000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && (child.exitCode !== null || child.spawnError)) {
      throw new Error(`${child.benchName} exited early (${child.spawnError?.message ?? `code ${child.exitCode}`}): ${child.stderrTail}`);
    }
    if (await answers(url, status)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms${child ? `: ${child.stderrTail}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function answers(url, status) {
  return new Promise((resolve) => {
    // https: readiness only (is it up?); the bench checks the certificate and the answer separately.
    const options = { agent: false, timeout: 1000, ...(url.startsWith('https:') ? { rejectUnauthorized: false } : {}) };
    const req = (url.startsWith('https:') ? https : http).get(url, options, (res) => {
      res.resume();
      resolve(res.statusCode === status);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/**
 * Stops what `group` started (and adopted) after this call, leaving older
 * processes (the backend) running: `const end = since(group); …; await end()`.
 */
export function since(group) {
  const before = new Set(group.children);
  const adopted = group.adopted.length;
  return async () => {
    await Promise.all([...group.children].filter((c) => !before.has(c)).map((c) => group.stop(c)));
    for (const { pid, comm } of group.adopted.splice(adopted)) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) process.kill(pid, 'SIGKILL');
      } catch { /* already gone */ }
    }
  };
}
