/** proxy/choose: which backends an HTTP/1.1 Upgrade tunnel may go to (never an HTTP/2 one), on a fake clock. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSet } from '../../src/upstream/backend-set.js';
import { parseBackendList } from '../../src/upstream/backend-address.js';
import { createPicker } from '../../src/balancer/index.js';
import { RetryBudget } from '../../src/proxy/retry-budget.js';
import { createMetrics } from '../../src/metrics.js';
import { choose, mayRetry, type ChooseDeps } from '../../src/proxy/choose.js';
import { NoHealthyBackendError, OverloadedError } from '../../src/errors.js';
import type { Config } from '../../src/config.js';
import type { Backend } from '../../src/upstream/backend.js';
import { FakeClock } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/rng.js';

function deps(t: TestContext, list: string, cap = 0): ChooseDeps & { now: number } {
  const clock = new FakeClock();
  const set = new BackendSet({ startHealthy: true, now: clock.now });
  t.after(() => set.close());
  set.replace(parseBackendList(list));
  const config = { maxRequestsPerBackend: cap, retries: 2 } as Config;
  return { config, set, picker: createPicker('round-robin'), budget: new RetryBudget(100, clock.now), metrics: createMetrics('test'), now: clock.now() };
}

const ctx = (now: number) => ({ now, rng: mulberry32(7), slowStartMs: 0, clientIp: '10.0.0.1' });

test('an upgrade (needs http1) is only ever given an http/https backend; other work still uses every backend', (t) => {
  const d = deps(t, 'h2c://a.local:1,http://b.local:2,h2://c.local:3,https://d.local:4');
  const upgrades = new Set<string>();
  const any = new Set<string>();
  for (let i = 0; i < 20; i += 1) {
    upgrades.add(choose(d, [], ctx(d.now), 'http1').id);
    any.add(choose(d, [], ctx(d.now)).id);
  }
  assert.deepEqual([...upgrades].sort(), ['b.local:2', 'd.local:4'], 'round robin among the HTTP/1.1 backends only');
  assert.equal(any.size, 4);
});

test('an upgrade with only HTTP/2 backends eligible is no_healthy_backend, with no retry', (t) => {
  const d = deps(t, 'h2c://a.local:1,h2c://b.local:2');
  assert.throws(() => choose(d, [], ctx(d.now), 'http1'), NoHealthyBackendError);
  assert.equal(choose(d, [], ctx(d.now)).scheme, 'h2c', 'a plain request still goes to them');
});

test('an upgrade retry goes to another HTTP/1.1 backend, never to an HTTP/2 one', (t) => {
  const d = deps(t, 'http://a.local:1,h2c://b.local:2,http://c.local:3');
  const first = choose(d, [], ctx(d.now), 'http1');
  const tried: Backend[] = [first];
  assert.equal(mayRetry(d, tried, d.now, 'http1'), true);
  const second = choose(d, tried, ctx(d.now), 'http1');
  assert.notEqual(second.id, first.id);
  assert.notEqual(second.scheme, 'h2c');
  tried.push(second);
  assert.equal(mayRetry(d, tried, d.now, 'http1'), false, 'the HTTP/2 backend is not a retry candidate');
  assert.throws(() => choose(d, tried, ctx(d.now), 'http1'), NoHealthyBackendError);
});

test('an upgrade finding its HTTP/1.1 backends at MAX_REQUESTS_PER_BACKEND is overloaded (a free HTTP/2 backend does not count)', (t) => {
  const d = deps(t, 'http://a.local:1,h2c://b.local:2', 1);
  d.set.get('a.local:1')!.inFlight = 1;
  assert.throws(() => choose(d, [], ctx(d.now), 'http1'), OverloadedError);
  assert.equal(choose(d, [], ctx(d.now)).id, 'b.local:2');
});
