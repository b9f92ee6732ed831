/**
 * Medians over rounds and the printed table: req/s, p50, p99, ratios against
 * direct access and against node-http-proxy, and the proxy's CPU and memory.
 */

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * @param {Array<{ name: string, label: string }>} targets
 * @param {Map<string, Array<object>>} runs per target name, one entry per round
 */
export function summarize(targets, runs) {
  const rows = targets.map((t) => {
    const rs = runs.get(t.name) ?? [];
    const rps = median(rs.map((r) => r.rps));
    const cpuCores = median(rs.map((r) => r.proc?.cpuCores));
    return {
      name: t.name, label: t.label, rounds: rs.length, rps,
      p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)),
      rpsAll: rs.map((r) => Math.round(r.rps)),
      failures: rs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
      cpuCores, cpuPer1k: cpuCores === null || !rps ? null : cpuCores / (rps / 1000),
      rssPeakMiB: maxOf(rs.map((r) => r.proc?.rssPeak)) / 2 ** 20 || null,
      logBytesPerRequest: median(rs.map((r) => r.logBytesPerRequest)),
    };
  });
  const direct = rows.find((r) => r.name === 'direct')?.rps ?? null;
  const rival = rows.find((r) => r.name === 'http-proxy')?.rps ?? null;
  const rivalRuns = runs.get('http-proxy') ?? [];
  for (const r of rows) {
    r.vsDirect = direct && r.rps ? r.rps / direct : null;
    r.vsHttpProxy = rival && r.rps ? r.rps / rival : null;
    // Paired: this target over http-proxy within each round (minutes apart at most), then the median.
    const mine = runs.get(r.name) ?? [];
    r.vsHttpProxyPaired = median(mine.map((m, i) => (rivalRuns[i] ? m.rps / rivalRuns[i].rps : NaN)));
  }
  return rows;
}

function maxOf(values) {
  const v = values.filter((x) => typeof x === 'number');
  return v.length ? Math.max(...v) : NaN;
}

const fmt = (v, digits = 0, suffix = '') => (v === null || v === undefined ? '—' : `${v.toFixed(digits)}${suffix}`);

/** Markdown table, also readable in a terminal. */
export function table(rows) {
  const head = ['target', 'req/s (median)', 'runs', 'p50 ms', 'p99 ms', 'vs direct', 'vs http-proxy', 'vs http-proxy, paired', 'proxy CPU', 'CPU per 1k req/s', 'proxy RSS peak', 'errors'];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(`| ${[
      r.label, fmt(r.rps), r.rpsAll.join(' / '), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2),
      fmt(r.vsDirect, 2, '×'), fmt(r.vsHttpProxy, 2, '×'), fmt(r.vsHttpProxyPaired, 2, '×'), fmt(r.cpuCores, 2, ' cores'),
      fmt(r.cpuPer1k, 3, ' cores'), fmt(r.rssPeakMiB, 0, ' MiB'), String(r.failures),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}
