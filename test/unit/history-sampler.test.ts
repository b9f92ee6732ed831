/** The history sampler reads the real metrics registry, backend set and retry budget (no timer: sample() is called). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics.js';
import { createLogger } from '../../src/log.js';
import { BackendSet } from '../../src/upstream/backend-set.js';
import { parseBackendList } from '../../src/upstream/backend-address.js';
import { RetryBudget } from '../../src/proxy/retry-budget.js';
import { HistorySampler, HISTORY_SLOTS } from '../../src/admin/history-sampler.js';
import { FakeClock } from '../helpers/backends.js';

test('sampler: rates, p50/p99 from the registry\'s histograms, errors by kind, budget and states from one interval', async (t) => {
  const clock = new FakeClock();
  const metrics = createMetrics('test');
  const set = new BackendSet({ startHealthy: true, now: clock.now });
  t.after(() => set.close());
  set.replace(parseBackendList('10.0.0.1:80,10.0.0.2:80'));
  const budget = new RetryBudget(20, clock.now);
  const sampler = new HistorySampler({ metrics, set, budget, logger: createLogger('silent').logger, intervalMs: 5000, now: clock.now });
  t.after(() => sampler.close());
  await sampler.sample(); // the baseline

  const [a, b] = set.all();
  for (let i = 0; i < 100; i++) {
    metrics.httpRequests.inc(['GET', '200']);
    metrics.httpDuration.observe(['GET', '2xx'], i < 50 ? 0.004 : 0.04);
    metrics.upstreamResponse.observe([a!.id], 0.02);
    budget.onRequest();
  }
  a!.requests += 100;
  a!.inFlight = 2;
  metrics.proxyErrors.inc({ kind: 'no_healthy_backend' }, 10);
  metrics.upstreamErrors.inc({ backend: b!.id, kind: 'connect_refused' }, 5);
  metrics.retries.inc({ reason: 'connect_failed' }, 5);
  for (let i = 0; i < 5; i++) budget.tryRetry();
  set.setHealthy(b!, false);
  set.setHealthy(b!, true); // a flap between two samples
  set.setDrained(a!, true);
  clock.advance(5000);
  await sampler.sample();

  const j = sampler.history.toJSON();
  assert.equal(j.slots, HISTORY_SLOTS);
  assert.equal(j.t.length, 1);
  assert.deepEqual(j.requestsPerSecond, [20]);
  // Half at 4 ms (bucket (2.5, 5] ms), half at 40 ms (bucket (25, 50] ms).
  assert.ok(j.latencyMs.p50[0]! > 2.5 && j.latencyMs.p50[0]! <= 5, String(j.latencyMs.p50[0]));
  assert.ok(j.latencyMs.p99[0]! > 25 && j.latencyMs.p99[0]! <= 50, String(j.latencyMs.p99[0]));
  assert.deepEqual(j.errorsPerSecond.proxy, { no_healthy_backend: [2] });
  assert.deepEqual(j.errorsPerSecond.upstream, { connect_refused: [1] });
  assert.deepEqual(j.retriesPerSecond, [1]);
  assert.deepEqual(j.retryBudgetUsedPercent, [5], '5 retries of the 100 the 10 s window allows');
  assert.deepEqual(j.inFlight, [2]);
  const [ja, jb] = j.backends;
  assert.deepEqual(ja!.requestsPerSecond, [20]);
  assert.ok(ja!.latencyMs.p50[0]! > 10 && ja!.latencyMs.p50[0]! <= 25);
  assert.deepEqual(ja!.state, ['drained']);
  assert.deepEqual(jb!.state, ['unhealthy'], 'the flap shows although b is healthy again at the sample');
  assert.deepEqual(jb!.latencyMs.p50, [null]);

  // An interval without events: the states read at the sample.
  clock.advance(5000);
  await sampler.sample();
  const next = sampler.history.toJSON();
  assert.deepEqual(next.backends.map((x) => x.state), [['drained', 'drained'], ['unhealthy', 'healthy']]);
  assert.deepEqual(next.requestsPerSecond, [20, 0]);
});
