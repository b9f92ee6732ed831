/** Passive outlier detection on a fake clock. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { OutlierDetector } from '../../src/health/outlier.js';
import { BackendSet } from '../../src/upstream/backend-set.js';
import { parseBackendList } from '../../src/upstream/backend-address.js';
import type { Metrics } from '../../src/metrics.js';
import { FakeClock } from '../helpers/backends.js';

const EJECTION_MS = 10_000;

function harness(t: TestContext, opts: { backends?: number; threshold?: number; maxPercent?: number } = {}) {
  const { backends = 4, threshold = 3, maxPercent = 50 } = opts;
  const clock = new FakeClock();
  const set = new BackendSet({ startHealthy: true, now: clock.now });
  t.after(() => set.close());
  set.replace(parseBackendList(Array.from({ length: backends }, (_, i) => `b${i}.local:80`).join(',')));
  const ejected: string[] = [];
  const metrics = { outlierEjections: { inc: (labels: { backend: string }) => ejected.push(labels.backend) } } as unknown as Metrics;
  const detector = new OutlierDetector(set, { consecutiveFailures: threshold, ejectionMs: EJECTION_MS, maxEjectionPercent: maxPercent }, metrics, clock.now);
  const events: Array<[string, string, Record<string, unknown> | undefined]> = [];
  set.onChange((b, event, detail) => events.push([b.id, event, detail]));
  const fail = (i: number, n = 1) => { for (let k = 0; k < n; k++) detector.onFailure(set.all()[i]!); };
  return { clock, set, detector, ejected, events, fail, backend: (i: number) => set.all()[i]! };
}

test('N consecutive failures eject for the base time; fewer do not', (t) => {
  const h = harness(t);
  h.fail(0, 2);
  assert.equal(h.backend(0).isEjected(h.clock.t), false);
  h.fail(0);
  assert.equal(h.backend(0).ejectedUntil, h.clock.t + EJECTION_MS);
  assert.deepEqual(h.ejected, ['b0.local:80']);
  assert.deepEqual(h.events, [['b0.local:80', 'ejected', { durationMs: EJECTION_MS, consecutiveFailures: 3 }]]);
  assert.ok(!h.set.eligible().includes(h.backend(0)));
});

test('a success in between resets the count', (t) => {
  const h = harness(t);
  h.fail(0, 2);
  h.detector.onSuccess(h.backend(0));
  h.fail(0, 2);
  assert.equal(h.backend(0).isEjected(h.clock.t), false);
  h.fail(0);
  assert.equal(h.backend(0).isEjected(h.clock.t), true);
});

test('failures on other backends do not add up', (t) => {
  const h = harness(t);
  h.fail(0, 2);
  h.fail(1, 2);
  h.fail(2, 2);
  assert.deepEqual(h.ejected, []);
});

test('failures while ejected neither extend the ejection nor count as new ejections', (t) => {
  const h = harness(t);
  h.fail(0, 3);
  const until = h.backend(0).ejectedUntil;
  h.clock.advance(1_000);
  h.fail(0, 10);
  assert.equal(h.backend(0).ejectedUntil, until);
  assert.equal(h.ejected.length, 1);
});

test('each repeat ejection doubles the time, capped at 10× the base', (t) => {
  const h = harness(t);
  const durations: number[] = [];
  for (let round = 0; round < 7; round++) {
    h.fail(0, 3);
    const b = h.backend(0);
    durations.push(b.ejectedUntil - h.clock.t);
    h.clock.t = b.ejectedUntil; // ejection over, failures resume at once
  }
  assert.deepEqual(durations.map((d) => d / EJECTION_MS), [1, 2, 4, 8, 10, 10, 10]);
});

test('a backend that behaves for long after its last ejection starts again from the base time', (t) => {
  const h = harness(t);
  h.fail(0, 3);
  h.clock.t = h.backend(0).ejectedUntil;
  h.fail(0, 3); // second ejection: 2×
  h.clock.advance(2 * EJECTION_MS);
  h.detector.onSuccess(h.backend(0)); // too soon to forgive
  h.fail(0, 3);
  assert.equal(h.backend(0).ejectedUntil - h.clock.t, 4 * EJECTION_MS);
  h.clock.advance(20 * EJECTION_MS + 1);
  h.detector.onSuccess(h.backend(0));
  h.fail(0, 3);
  assert.equal(h.backend(0).ejectedUntil - h.clock.t, EJECTION_MS);
});

test('never more than OUTLIER_MAX_EJECTION_PERCENT of the backends are ejected', (t) => {
  const h = harness(t, { backends: 4, maxPercent: 50 });
  for (let i = 0; i < 4; i++) h.fail(i, 3);
  assert.deepEqual(h.ejected, ['b0.local:80', 'b1.local:80']);
  assert.equal(h.set.eligible().length, 2);
  // Once an ejection ends, another backend may take its place.
  h.clock.advance(EJECTION_MS);
  h.fail(2, 3);
  assert.deepEqual(h.ejected, ['b0.local:80', 'b1.local:80', 'b2.local:80']);
});

test('max ejection percent edge cases: a lone backend at 50 %, and 100 %', (t) => {
  const lone = harness(t, { backends: 1, maxPercent: 50 });
  lone.fail(0, 30);
  assert.deepEqual(lone.ejected, []);
  const all = harness(t, { backends: 3, maxPercent: 100 });
  for (let i = 0; i < 3; i++) all.fail(i, 3);
  assert.equal(all.ejected.length, 3);
  const none = harness(t, { backends: 3, maxPercent: 0 });
  for (let i = 0; i < 3; i++) none.fail(i, 3);
  assert.equal(none.ejected.length, 0);
});

test('OUTLIER_CONSECUTIVE_FAILURES=0 turns detection off', (t) => {
  const h = harness(t, { threshold: 0 });
  h.fail(0, 1000);
  assert.deepEqual(h.ejected, []);
  assert.equal(h.backend(0).isEjected(h.clock.t), false);
});

test('threshold 1 ejects on the first failure', (t) => {
  const h = harness(t, { threshold: 1 });
  h.fail(3);
  assert.deepEqual(h.ejected, ['b3.local:80']);
});
