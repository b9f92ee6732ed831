/** Weighted least connections, ties broken by smooth weighted round robin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeastConnectionsPicker } from '../../src/balancer/least-connections.js';
import { mulberry32 } from '../helpers/rng.js';
import { context, makeBackends, tally } from '../helpers/backends.js';

const ctx = context(mulberry32(1));

test('picks the backend with the fewest requests in flight', () => {
  const backends = makeBackends([1, 1, 1]);
  [backends[0]!.inFlight, backends[1]!.inFlight, backends[2]!.inFlight] = [2, 0, 1];
  const picker = new LeastConnectionsPicker();
  for (let i = 0; i < 10; i++) assert.equal(picker.pick(backends, ctx), backends[1]);
});

test('compares in-flight divided by weight, not raw in-flight', () => {
  const backends = makeBackends([2, 1, 2]);
  // loads: 4/2 = 2, 3/1 = 3, 3/2 = 1.5 → the third, although it is not the least busy in raw count.
  [backends[0]!.inFlight, backends[1]!.inFlight, backends[2]!.inFlight] = [4, 3, 3];
  assert.equal(new LeastConnectionsPicker().pick(backends, ctx), backends[2]);
  // 2/10 = 0.2 beats 1/1 = 1.
  const [heavy, light] = makeBackends([10, 1]);
  heavy!.inFlight = 2;
  light!.inFlight = 1;
  assert.equal(new LeastConnectionsPicker().pick([heavy!, light!], ctx), heavy);
});

test('idle ties are broken by smooth WRR: weights 1:3:2 give B C A B C B', () => {
  const backends = makeBackends([1, 3, 2]);
  const picker = new LeastConnectionsPicker();
  const seq = Array.from({ length: 6 }, () => picker.pick(backends, ctx));
  assert.deepEqual(seq, [backends[1], backends[2], backends[0], backends[1], backends[2], backends[1]]);
});

test('ties among the least loaded only: a busy backend is skipped, the tied rest share by weight', () => {
  const backends = makeBackends([1, 5, 3]);
  backends[1]!.inFlight = 1; // the heaviest is busy
  const picker = new LeastConnectionsPicker();
  const counts = tally(Array.from({ length: 40 }, () => picker.pick(backends, ctx)));
  assert.equal(counts.get(backends[1]!.id), undefined);
  assert.equal(counts.get(backends[0]!.id), 10);
  assert.equal(counts.get(backends[2]!.id), 30);
});

test('an in-flight model converges on the weights: every pick then completes the oldest', () => {
  // Requests stay in flight for a fixed number of picks; load spreads by weight.
  const backends = makeBackends([1, 2, 1]);
  const picker = new LeastConnectionsPicker();
  const open: ReturnType<typeof makeBackends> = [];
  const picks = [];
  for (let i = 0; i < 4000; i++) {
    const b = picker.pick(backends, ctx)!;
    b.inFlight += 1;
    open.push(b);
    if (open.length > 8) open.shift()!.inFlight -= 1;
    picks.push(b);
  }
  const counts = tally(picks);
  assert.ok(Math.abs(counts.get(backends[1]!.id)! / 4000 - 0.5) < 0.02);
  assert.ok(Math.abs(counts.get(backends[0]!.id)! / 4000 - 0.25) < 0.02);
});
