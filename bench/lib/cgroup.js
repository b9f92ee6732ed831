/**
 * A memory cgroup with a limit, as a pod's container gets one: cgroup v2
 * (`memory.max`) where the memory controller is enabled for this process's
 * cgroup, else cgroup v1 (`memory.limit_in_bytes`). The new cgroup is a child
 * of the one this process runs in, so its usage still counts toward every
 * limit above it. Processes join it through a `sh -c` wrapper that writes its
 * own pid to `cgroup.procs` and execs the real command (same pid).
 *
 * createMemoryCgroup() returns null with a reason when no memory cgroup can
 * be made here (no controller, not root, read-only /sys/fs/cgroup): callers
 * must report that as a skip, never as a pass.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MIB = 1024 * 1024;

/** "256M", "1G", "268435456" → bytes. */
export function parseBytes(text) {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]i?)?B?$/i.exec(String(text).trim());
  if (!m) throw new Error(`not a size: ${text} (examples: 256M, 1G)`);
  const unit = { K: 1024, M: MIB, G: 1024 * MIB }[(m[2] ?? '').charAt(0).toUpperCase()] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

function mounts() {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const [left, right] = line.split(' - ');
    const f = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    return { root: f[3], point: f[4], fstype, options: `${f[5]},${superOptions}`.split(',') };
  });
}

/** This process's cgroup path for a v1 controller, or for v2 (controller ''). */
function ownPath(controller) {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [id, controllers, path] = line.split(':');
    if (controller === '' ? id === '0' && controllers === '' : controllers?.split(',').includes(controller)) return path;
  }
  return null;
}

function under(mount, path) {
  // Inside a container the mount's root is the container's own cgroup; strip it from the path.
  const rel = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return join(mount.point, rel);
}

function candidates() {
  const out = [];
  const all = mounts();
  const v2 = all.find((m) => m.fstype === 'cgroup2');
  const v2Path = ownPath('');
  if (v2 && v2Path !== null) {
    const parent = under(v2, v2Path);
    const enabled = (file) => { try { return readFileSync(join(parent, file), 'utf8').split(/\s+/).includes('memory'); } catch { return false; } };
    if (enabled('cgroup.subtree_control')) out.push({ version: 2, parent });
    else out.push({ version: 2, parent, problem: `cgroup v2 at ${v2.point}: memory is not in ${join(parent, 'cgroup.subtree_control')}` });
  }
  const v1 = all.find((m) => m.fstype === 'cgroup' && m.options.includes('memory'));
  const v1Path = ownPath('memory');
  if (v1 && v1Path !== null) out.push({ version: 1, parent: under(v1, v1Path) });
  return out;
}

/**
 * @param {number} limitBytes
 * @param {string} name a label for the directory (pid and a counter are added)
 * @returns {{ cgroup: MemoryCgroup|null, reason: string }}
 */
let serial = 0;
export function createMemoryCgroup(limitBytes, name = 'outrigger') {
  const problems = [];
  for (const c of candidates()) {
    if (c.problem) { problems.push(c.problem); continue; }
    const dir = join(c.parent, `${name}-${process.pid}-${++serial}`);
    try {
      mkdirSync(dir);
    } catch (err) {
      problems.push(`cgroup v${c.version}: cannot create ${dir}: ${err.code ?? err.message}`);
      continue;
    }
    const cg = new MemoryCgroup(c.version, dir);
    try {
      cg.setLimit(limitBytes);
      if (cg.limit() !== limitBytes) throw new Error(`the limit reads back as ${cg.limit()}`);
      return { cgroup: cg, reason: '' };
    } catch (err) {
      problems.push(`cgroup v${c.version}: cannot set the limit in ${dir}: ${err.code ?? err.message}`);
      cg.remove();
    }
  }
  return { cgroup: null, reason: problems.length ? problems.join('; ') : 'no memory cgroup hierarchy is mounted (see /proc/self/mountinfo)' };
}

export class MemoryCgroup {
  constructor(version, dir) {
    this.version = version;
    this.dir = dir;
  }

  file(v2, v1) { return join(this.dir, this.version === 2 ? v2 : v1); }

  read(v2, v1) { return readFileSync(this.file(v2, v1), 'utf8').trim(); }

  setLimit(bytes) {
    writeFileSync(this.file('memory.max', 'memory.limit_in_bytes'), String(bytes));
    // No swap either, as in a pod (a node with swap off, or swap not granted to the container).
    const swap = this.file('memory.swap.max', 'memory.memsw.limit_in_bytes');
    if (existsSync(swap)) { try { writeFileSync(swap, this.version === 2 ? '0' : String(bytes)); } catch { /* no swap accounting */ } }
  }

  limit() { return Number(this.read('memory.max', 'memory.limit_in_bytes')); }

  /** Bytes charged now (RSS, page cache, kernel memory such as socket buffers). */
  usage() { return Number(this.read('memory.current', 'memory.usage_in_bytes')); }

  /** Highest usage since creation, or null where the kernel does not keep it (v2 before 5.19). */
  peak() {
    try { return Number(this.read('memory.peak', 'memory.max_usage_in_bytes')); } catch { return null; }
  }

  /** OOM kills inside this cgroup (v2 memory.events, v1 memory.oom_control, kernel ≥ 4.13). */
  oomKills() {
    const text = this.read('memory.events', 'memory.oom_control');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** `sh -c` arguments that move the shell into this cgroup, then exec cmd args (same pid). */
  wrap(cmd, args) {
    return { cmd: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', join(this.dir, 'cgroup.procs'), cmd, ...args] };
  }

  /** Removes the (empty) cgroup; retried briefly while its last process is reaped. */
  async removeWhenEmpty(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.remove()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  remove() {
    try {
      rmdirSync(this.dir);
      return true;
    } catch (err) {
      return err.code === 'ENOENT';
    }
  }
}
