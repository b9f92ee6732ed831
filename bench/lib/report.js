/**
 * Medians over rounds and the printed tables: req/s, p50, p99, ratios against
 * direct access and against node-http-proxy, the proxy's CPU and memory, and
 * CPU µs per request with its ratios against the floor and node-http-proxy.
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
      cpuUsPerReq: median(rs.map((r) => r.cpuUsPerReq)), cpuUsAll: rs.map((r) => r.cpuUsPerReq),
    };
  });
  const byName = (name) => rows.find((r) => r.name === name);
  for (const r of rows) {
    for (const [key, other] of [['Floor', 'floor'], ['HttpProxy', 'http-proxy'], ['TracingOff', 'tracing-off']]) {
      const o = byName(other);
      r[`cpuVs${key}`] = o?.cpuUsPerReq && r.cpuUsPerReq ? r.cpuUsPerReq / o.cpuUsPerReq : null;
      const theirs = runs.get(other) ?? [];
      r[`cpuVs${key}Paired`] = median((runs.get(r.name) ?? []).map((m, i) => (theirs[i] ? m.cpuUsPerReq / theirs[i].cpuUsPerReq : NaN)));
    }
  }
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

/** One round's runs, in the order they were made. */
export function roundTable(results) {
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/req', 'proxy RSS peak', 'errors'];
  return markdown(head, results.map(({ label, r }) => [
    label, fmt(r.rps), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.p999Ms, 2), fmt(r.cpuUsPerReq, 1),
    fmt(r.proc?.rssPeak ? r.proc.rssPeak / 2 ** 20 : null, 0, ' MiB'), String(r.non2xx + r.errors + r.timeouts),
  ]));
}

/** Medians of CPU µs per request, with ratios (of medians, and paired per round) against the floor and node-http-proxy. */
export function cpuTable(rows) {
  const head = ['target', 'CPU µs/req (median)', 'rounds', '× floor', '× floor, paired', '× http-proxy', '× http-proxy, paired', 'req/s', 'p50 ms', 'p99 ms', 'proxy RSS peak'];
  return markdown(head, rows.filter((r) => r.cpuUsPerReq !== null).map((r) => [
    r.label, fmt(r.cpuUsPerReq, 1), r.cpuUsAll.map((v) => fmt(v, 1)).join(' / '), fmt(r.cpuVsFloor, 2, '×'), fmt(r.cpuVsFloorPaired, 2, '×'),
    fmt(r.cpuVsHttpProxy, 2, '×'), fmt(r.cpuVsHttpProxyPaired, 2, '×'), fmt(r.rps), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.rssPeakMiB, 0, ' MiB'),
  ]));
}

function markdown(head, body) {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const cells of body) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}
