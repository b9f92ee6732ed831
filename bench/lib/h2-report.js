/**
 * The tables of the HTTP/2 run: medians of req/s, CPU µs per request (with
 * its ratio to Outrigger's own HTTP/1.1 figure, of medians and paired per
 * round), p50/p99 and peak RSS; and how each proxy spread one connection's
 * streams over the three backends.
 */
import { median } from './report.js';

export const H1_REFERENCE = 'outrigger-h1';
export const CPU_TARGET_VS_H1 = 1.5;
export const SPREAD_TOLERANCE = 0.1;

const fmt = (v, digits = 0, suffix = '') => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(digits)}${suffix}`);

/** Adds cpuVsH1 (ratio of medians) and cpuVsH1Paired (median of per-round ratios) to each summarized row. */
export function addH1Ratios(rows, runs) {
  const ref = rows.find((r) => r.name === H1_REFERENCE);
  const refRuns = runs.get(H1_REFERENCE) ?? [];
  for (const r of rows) {
    r.cpuVsH1 = ref?.cpuUsPerReq && r.cpuUsPerReq ? r.cpuUsPerReq / ref.cpuUsPerReq : null;
    r.cpuVsH1Paired = median((runs.get(r.name) ?? []).map((m, i) => (refRuns[i] ? m.cpuUsPerReq / refRuns[i].cpuUsPerReq : NaN)));
  }
  return rows;
}

/** Medians over rounds, one row per target. */
export function h2Table(rows) {
  const head = ['target', 'req/s (median)', 'runs', 'CPU µs/req (median)', 'rounds', '× Outrigger HTTP/1.1 CPU', 'paired', 'p50 ms', 'p99 ms', 'proxy RSS peak', 'errors'];
  return markdown(head, rows.map((r) => [
    r.label, fmt(r.rps), r.rpsAll.join(' / '), fmt(r.cpuUsPerReq, 1), r.cpuUsAll.map((v) => fmt(v, 1)).join(' / '),
    fmt(r.cpuVsH1, 2, '×'), fmt(r.cpuVsH1Paired, 2, '×'), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.rssPeakMiB, 0, ' MiB'), String(r.failures),
  ]));
}

/**
 * How far each backend's count is from an even share: the largest
 * |count − total/n| ÷ (total/n), and whether it is within SPREAD_TOLERANCE.
 * @param {number[]} counts
 */
export function spreadOf(counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  const even = total / counts.length;
  const deviation = even > 0 ? Math.max(...counts.map((c) => Math.abs(c - even) / even)) : 1;
  return { total, deviation, even: deviation <= SPREAD_TOLERANCE };
}

/** @param {Array<{ label: string, counts: number[], r: object }>} spreads */
export function spreadTable(spreads) {
  const head = ['target', 'answered (2xx)', 'per backend', 'largest deviation from even', `within ±${SPREAD_TOLERANCE * 100} %`];
  return markdown(head, spreads.map(({ label, counts, r }) => {
    const s = spreadOf(counts);
    return [label, `${r.ok} of ${r.requests}`, counts.join(' / '), fmt(s.deviation * 100, 1, ' %'), s.even ? 'yes' : 'NO'];
  }));
}

function markdown(head, body) {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const cells of body) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}
