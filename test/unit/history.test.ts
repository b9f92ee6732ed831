/** The dashboard history: a bounded ring that wraps, rates and quantiles from counter and bucket deltas, on given times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingIndex, histogramQuantile, deltas } from '../../src/admin/history-ring.js';
import { History, type BackendReading, type Reading } from '../../src/admin/history.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≉ ${expected}`);

function reading(at: number, over: Partial<Reading> = {}): Reading {
  return { at, requests: 0, latency: undefined, errors: [], retries: 0, budgetExhausted: 0, budgetUsed: 0, backends: [], ...over };
}
function backend(id: string, over: Partial<BackendReading> = {}): BackendReading {
  return { id, requests: 0, inFlight: 0, state: 'healthy', latency: undefined, ...over };
}

test('RingIndex: holds at most `slots` samples, oldest first, and wraps over the oldest', () => {
  const ring = new RingIndex(3);
  const column = new Float64Array(3);
  assert.deepEqual(ring.read(column, (v) => v), []);
  for (let i = 1; i <= 5; i++) column[ring.advance()] = i;
  assert.equal(ring.count, 3);
  assert.deepEqual(ring.read(column, (v) => v), [3, 4, 5]);
  column[ring.advance()] = 6;
  assert.deepEqual(ring.read(column, (v) => v), [4, 5, 6]);
  assert.throws(() => new RingIndex(0), RangeError);
});

test('histogramQuantile: linear within the bucket of the rank, from 0 in the first, the top bound for +Inf, NaN when empty', () => {
  assert.ok(Number.isNaN(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0, 0])));
  // 10 observations, all in (0.01, 0.1]: the median is halfway through that bucket.
  near(histogramQuantile(0.5, BOUNDS, [0, 0, 10, 10, 10]), 0.055);
  near(histogramQuantile(0.5, BOUNDS, [10, 10, 10, 10, 10]), 0.0005);
  // 1 of 100 beyond the last bound: p99 is still inside (0.1, 1], p999 is the top bound.
  near(histogramQuantile(0.99, BOUNDS, [0, 0, 0, 99, 100]), 1);
  assert.equal(histogramQuantile(0.999, BOUNDS, [0, 0, 0, 99, 100]), 1);
});

test('deltas: per-bucket differences; a series that restarted counts from its new value', () => {
  const into = new Float64Array(3);
  assert.deepEqual([...deltas([5, 8, 10], [1, 2, 3], into)], [4, 6, 7]);
  assert.deepEqual([...deltas([1, 1, 2], [5, 8, 10], into)], [1, 1, 2]);
  assert.deepEqual([...deltas([1, 2, 3], undefined, into)], [1, 2, 3]);
});

test('the first reading is only a baseline; each later one adds a sample of per-second rates', () => {
  const h = new History(10, 5000);
  h.record(reading(1_000_000, { requests: 1000, retries: 7 }));
  assert.deepEqual(h.toJSON().t, []);
  h.record(reading(1_005_000, { requests: 1050, retries: 7, budgetUsed: 0.25 }));
  h.record(reading(1_010_000, { requests: 1150, retries: 17, budgetExhausted: 5 }));
  const j = h.toJSON();
  assert.deepEqual(j.t, [1_005_000, 1_010_000]);
  assert.deepEqual(j.requestsPerSecond, [10, 20]);
  assert.deepEqual(j.retriesPerSecond, [0, 2]);
  assert.deepEqual(j.retryBudgetExhaustedPerSecond, [0, 1]);
  assert.deepEqual(j.retryBudgetUsedPercent, [25, 0]);
  assert.equal(j.intervalMs, 5000);
  assert.equal(j.slots, 10);
});

test('bounded: 1000 samples into 180 slots keep the newest 180, in order', () => {
  const h = new History(180, 1000);
  for (let i = 0; i <= 1000; i++) h.record(reading(i * 1000, { requests: i * 3, backends: [backend('a:1', { requests: i })] }));
  const j = h.toJSON();
  assert.equal(j.t.length, 180);
  assert.equal(j.t[0], 821_000);
  assert.equal(j.t[179], 1_000_000);
  assert.ok(j.requestsPerSecond.every((v) => v === 3));
  assert.equal(j.backends[0]!.requestsPerSecond.length, 180);
  assert.ok(j.backends[0]!.requestsPerSecond.every((v) => v === 1));
});

test('latency p50/p99 come from the bucket deltas of each interval, not from the totals since start', () => {
  const h = new History(10, 5000);
  // 10 000 fast observations before the baseline, then 100 slow ones in the interval.
  h.record(reading(0, { latency: { bounds: BOUNDS, cumulative: [10_000, 10_000, 10_000, 10_000, 10_000] } }));
  h.record(reading(5000, { latency: { bounds: BOUNDS, cumulative: [10_000, 10_000, 10_100, 10_100, 10_100] } }));
  h.record(reading(10_000, { latency: { bounds: BOUNDS, cumulative: [10_000, 10_000, 10_100, 10_100, 10_100] } }));
  const j = h.toJSON();
  assert.deepEqual(j.latencyMs.p50, [55, null], 'the median of the interval; no observation in the next one');
  assert.deepEqual(j.latencyMs.p99, [99.1, null]);
});

test('per backend: rates, in-flight and the worst state seen in each interval; a backend that leaves, leaves', () => {
  const h = new History(10, 1000);
  h.record(reading(0, { backends: [backend('a:1', { requests: 100 }), backend('b:2', { requests: 5 })] }));
  h.noteState('a:1', 'unhealthy');
  h.noteState('a:1', 'drained');
  h.record(reading(1000, { backends: [backend('a:1', { requests: 110, inFlight: 3 }), backend('b:2', { requests: 5, state: 'ejected' })] }));
  h.record(reading(2000, { backends: [backend('a:1', { requests: 130 }), backend('c:3', { requests: 4, state: 'unknown' })] }));
  const j = h.toJSON();
  assert.deepEqual(j.backends.map((b) => b.id), ['a:1', 'c:3']);
  const [a, c] = j.backends;
  assert.deepEqual(a!.requestsPerSecond, [10, 20]);
  assert.deepEqual(a!.inFlight, [3, 0]);
  assert.deepEqual(a!.state, ['unhealthy', 'healthy'], 'the flap between samples shows, worst first');
  assert.deepEqual(c!.requestsPerSecond, [null, 4], 'a new backend counts from 0 and has no earlier samples');
  assert.deepEqual(c!.state, [null, 'unknown']);
  assert.deepEqual(j.inFlight, [3, 0]);
});

test('a counter that restarts (a backend re-added under the same id) is read from its new value, never negative', () => {
  const h = new History(10, 1000);
  h.record(reading(0, { requests: 500, backends: [backend('a:1', { requests: 500 })] }));
  h.record(reading(1000, { requests: 20, backends: [backend('a:1', { requests: 20 })] }));
  assert.deepEqual(h.toJSON().requestsPerSecond, [20]);
  assert.deepEqual(h.toJSON().backends[0]!.requestsPerSecond, [20]);
});

test('errors by kind: one series per kind, summed over backends, 0 before a kind first appears', () => {
  const h = new History(10, 1000);
  const up = (b: string, value: number) => ({ source: 'upstream' as const, kind: 'reset', series: `reset ${b}`, value });
  h.record(reading(0, { errors: [up('a:1', 4)] }));
  h.record(reading(1000, { errors: [up('a:1', 6), up('b:2', 1)] }));
  // b:2 left the set (its series went away); a:1 carries on; a proxy error kind appears.
  h.record(reading(2000, { errors: [up('a:1', 6), { source: 'proxy', kind: 'no_healthy_backend', series: 'no_healthy_backend', value: 3 }] }));
  const j = h.toJSON();
  assert.deepEqual(j.errorsPerSecond.upstream, { reset: [3, 0] });
  assert.deepEqual(j.errorsPerSecond.proxy, { no_healthy_backend: [0, 3] });
});

test('toJSON is plain data (what GET /api/history answers)', () => {
  const h = new History(4, 250);
  h.record(reading(0));
  h.record(reading(250, { requests: 1 }));
  const text = JSON.stringify(h);
  assert.deepEqual(JSON.parse(text), h.toJSON());
  assert.match(text, /"requestsPerSecond":\[4\]/);
});

test('view(since): only the samples taken after `since`, for a poller that holds the earlier ones', () => {
  const h = new History(3, 1000);
  for (let i = 0; i <= 5; i++) h.record(reading(i * 1000, { requests: i * 2, backends: [backend('a:1', { requests: i })] }));
  assert.deepEqual(h.view().t, [3000, 4000, 5000]);
  const after = h.view(3000);
  assert.deepEqual(after.t, [4000, 5000]);
  assert.deepEqual(after.requestsPerSecond, [2, 2]);
  assert.deepEqual(after.backends[0]!.state, ['healthy', 'healthy']);
  assert.deepEqual(h.view(5000).t, []);
  assert.deepEqual(h.view(5000).backends[0]!.requestsPerSecond, [], 'the membership still comes, with no samples');
  assert.deepEqual(h.view(0).t, [3000, 4000, 5000], 'older than what is held: everything held');
});
