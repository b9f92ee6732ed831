/** The cached-series counter and histogram expose exactly what prom-client's own would for the same updates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../src/metric-series.js';

/** Sample lines as a map from name + sorted labels to value, and the HELP/TYPE lines. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) { out.set(line, 0); continue; }
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `sample line: ${line}`);
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l !== '').sort().join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, string, number]> = [
  ['GET', '2xx', 0.0004], ['GET', '2xx', 0.001], ['GET', '2xx', 0.05], ['POST', '5xx', 3], ['GET', '2xx', 0.0101], ['GET', '4xx', 1],
];

test('SeriesHistogram: buckets (cumulative, le inclusive), +Inf, _sum and _count as prom-client', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new SeriesHistogram('t_seconds', 'help text', ['method', 'code_class'] as const, BUCKETS, ours);
  const p = new Histogram({ name: 't_seconds', help: 'help text', labelNames: ['method', 'code_class'] as const, buckets: BUCKETS, registers: [theirs] });
  for (const [method, cls, v] of OBSERVATIONS) {
    h.observe([method, cls], v);
    p.observe({ method, code_class: cls }, v);
  }
  assert.deepEqual(samples(await ours.metrics()), samples(await theirs.metrics()));
  assert.equal(samples(await ours.metrics()).get('t_seconds_bucket{code_class="2xx",le="0.001",method="GET"}'), 2, 'le is inclusive');
});

test('SeriesCounter: counts reach the registry when scraped, new series show at once, repeated scrapes do not double', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const c = new SeriesCounter('t_total', 'help text', ['method', 'code'] as const, ours);
  const p = new Counter({ name: 't_total', help: 'help text', labelNames: ['method', 'code'] as const, registers: [theirs] });
  for (const [method, code] of [['GET', '200'], ['GET', '200'], ['POST', '503'], ['GET', '404']] as const) {
    c.inc([method, code]);
    p.inc({ method, code });
  }
  c.inc(['GET', '200'], 5);
  p.inc({ method: 'GET', code: '200' }, 5);
  assert.deepEqual(samples(await ours.metrics()), samples(await theirs.metrics()));
  assert.deepEqual(samples(await ours.metrics()), samples(await theirs.metrics()), 'a second scrape gives the same');
  c.inc(['GET', '200']);
  assert.equal(samples(await ours.metrics()).get('t_total{code="200",method="GET"}'), 8);
});

test('two-label series removed by removeWhere and counted again show anew (counter and histogram)', async () => {
  const reg = new Registry();
  const c = new SeriesCounter('t_total', 'help text', ['backend', 'code_class'] as const, reg);
  const h = new SeriesHistogram('t_seconds', 'help text', ['backend', 'code_class'] as const, BUCKETS, reg);
  c.inc(['a:1', '2xx'], 3);
  h.observe(['a:1', '2xx'], 0.05);
  c.inc(['b:1', '2xx']);
  await reg.metrics();
  c.removeWhere('backend', 'a:1');
  h.removeWhere('backend', 'a:1');
  let s = samples(await reg.metrics());
  assert.equal(s.get('t_total{backend="a:1",code_class="2xx"}'), undefined, 'gone with its backend');
  assert.equal(s.get('t_seconds_count{backend="a:1",code_class="2xx"}'), undefined);
  c.inc(['a:1', '2xx'], 2);
  h.observe(['a:1', '2xx'], 0.5);
  c.inc(['b:1', '2xx']);
  s = samples(await reg.metrics());
  assert.equal(s.get('t_total{backend="a:1",code_class="2xx"}'), 2, 'counts again from 0');
  assert.equal(s.get('t_seconds_count{backend="a:1",code_class="2xx"}'), 1);
  assert.equal(s.get('t_total{backend="b:1",code_class="2xx"}'), 2, 'other series untouched');
});
