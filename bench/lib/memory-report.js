/**
 * The markdown table of `--memory` (what docs/benchmarks.md shows): RSS in
 * MiB idle, peak and steady at each connection level with req/s and p99,
 * after the load, and with --cgroup the cgroup's charge (idle, peak, after;
 * v1 counts page cache too) and OOM kills. RSS counts the node binary's
 * mapped pages (~34 MiB on Node 24), which the cgroup charges only once.
 * Outrigger's rows are checked against issue 13's targets.
 */
const MIB = 1024 * 1024;

/** MiB: idle, at -c256 and -c1000 (peak), and the factor over idle to be back under after the load. */
export const TARGETS = { idle: 50, c256: 100, c1000: 140, back: 1.2 };

const m = (b) => (b === null || b === undefined ? '—' : String(Math.round(b / MIB)));

export function memoryTable(rows, o) {
  const withCgroup = rows.some((r) => r.cgroup);
  const levelHead = o.levels.map((c) => `-c${c} peak / steady (req/s, p99 ms)`);
  const head = ['target', 'idle', ...levelHead, `${o.afterS} s after`, 'back under 1.2× idle after', ...(withCgroup ? ['cgroup charge idle / peak / after', 'OOM kills'] : []), 'targets'];
  const lines = rows.map((r) => {
    const cells = [
      `${r.label}${r.round > 1 ? ` (round ${r.round})` : ''}${r.died ? ' **died**' : ''}`,
      m(r.idle),
      ...r.levels.map((l) => `${m(l.peak)} / ${m(l.steady)} (${Math.round(l.rps)}, ${l.p99Ms.toFixed(0)})${l.timeouts ? ` ${l.timeouts} timeouts` : ''}`),
      m(r.after),
      r.backUnderS === null ? 'not yet' : `${r.backUnderS} s`,
      ...(withCgroup ? [`${m(r.cgroup?.idle)} / ${m(r.cgroup?.peak)} / ${m(r.cgroup?.after)}`, String(r.cgroup?.oomKills ?? '—')] : []),
      r.name.startsWith('outrigger') ? verdict(r) : '',
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return [`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`, ...lines].join('\n');
}

function verdict(r) {
  const at = (c) => r.levels.find((l) => l.connections === c)?.peak;
  const checks = [
    ['idle', r.idle !== null && r.idle <= TARGETS.idle * MIB],
    ['c256', at(256) === undefined || at(256) <= TARGETS.c256 * MIB],
    ['c1000', at(1000) === undefined || at(1000) <= TARGETS.c1000 * MIB],
    ['after', r.backUnderS !== null],
  ];
  const failed = checks.filter(([, ok]) => !ok).map(([n]) => n);
  return failed.length === 0 ? 'met' : `missed: ${failed.join(', ')}`;
}
