/** Power of two choices: p2c (in-flight/weight) and ewma (Peak-EWMA latency × load / weight). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P2cPicker, EwmaPicker } from '../../src/balancer/p2c.js';
import { mulberry32 } from '../helpers/rng.js';
import { T0, context, makeBackends, tally } from '../helpers/backends.js';

test('p2c: of two backends, the one with fewer in flight always wins', () => {
  const [a, b] = makeBackends([1, 1]);
  a!.inFlight = 3;
  b!.inFlight = 1;
  const picker = new P2cPicker();
  const ctx = context(mulberry32(5));
  for (let i = 0; i < 200; i++) assert.equal(picker.pick([a!, b!], ctx), b);
});

test('p2c: the most loaded of three is never picked, and the least loaded is preferred', () => {
  const backends = makeBackends([1, 1, 1]);
  [backends[0]!.inFlight, backends[1]!.inFlight, backends[2]!.inFlight] = [9, 0, 4];
  const picker = new P2cPicker();
  const ctx = context(mulberry32(9));
  const counts = tally(Array.from({ length: 3000 }, () => picker.pick(backends, ctx)));
  assert.equal(counts.get(backends[0]!.id), undefined);
  // The least loaded wins every pair it is in: 2 of the 3 pairs.
  const share = counts.get(backends[1]!.id)! / 3000;
  assert.ok(Math.abs(share - 2 / 3) < 0.03, `least loaded share ${share}`);
});

test('p2c: load is compared per unit of weight', () => {
  const [big, small] = makeBackends([4, 1]);
  big!.inFlight = 4; // 1 per weight
  small!.inFlight = 2; // 2 per weight
  const picker = new P2cPicker();
  const ctx = context(mulberry32(2));
  for (let i = 0; i < 50; i++) assert.equal(picker.pick([big!, small!], ctx), big);
});

test('p2c: the two draws are distinct backends (a lone idle backend is always found)', () => {
  const backends = makeBackends([1, 1, 1, 1]);
  for (const b of backends) b.inFlight = 5;
  backends[3]!.inFlight = 0;
  const picker = new P2cPicker();
  const ctx = context(mulberry32(11));
  // With distinct draws, the idle one wins whenever it is drawn: 1 - (3/4 · 2/3) = 1/2 of picks.
  const counts = tally(Array.from({ length: 4000 }, () => picker.pick(backends, ctx)));
  const share = counts.get(backends[3]!.id)! / 4000;
  assert.ok(Math.abs(share - 0.5) < 0.03, `idle share ${share}`);
});

test('ewma: of two idle backends, the lower latency estimate always wins', () => {
  const [fast, slow] = makeBackends([1, 1]);
  fast!.observeLatency(5, T0);
  slow!.observeLatency(50, T0);
  const picker = new EwmaPicker();
  const ctx = context(mulberry32(3));
  for (let i = 0; i < 200; i++) assert.equal(picker.pick([slow!, fast!], ctx), fast);
});

test('ewma: latency is weighed against load: (in-flight + 1) × latency / weight', () => {
  const [a, b] = makeBackends([1, 1]);
  a!.observeLatency(10, T0); // cost 10 × 1 = 10
  b!.observeLatency(4, T0);
  b!.inFlight = 3; // cost 4 × 4 = 16
  const picker = new EwmaPicker();
  const ctx = context(mulberry32(4));
  for (let i = 0; i < 50; i++) assert.equal(picker.pick([a!, b!], ctx), a);
  b!.inFlight = 1; // cost 8 < 10
  for (let i = 0; i < 50; i++) assert.equal(picker.pick([a!, b!], ctx), b);
});

test('ewma: a backend with no latency sample yet is tried before a measured slow one', () => {
  const [fresh, measured] = makeBackends([1, 1]);
  measured!.observeLatency(20, T0);
  const picker = new EwmaPicker();
  assert.equal(picker.pick([measured!, fresh!], context(mulberry32(1))), fresh);
});

test('ewma: with equal estimates and no load, the heavier backend wins the pair', () => {
  const [light, heavy] = makeBackends([1, 3]);
  const picker = new EwmaPicker();
  const ctx = context(mulberry32(8));
  for (let i = 0; i < 50; i++) assert.equal(picker.pick([light!, heavy!], ctx), heavy);
});

test('Peak-EWMA estimate: a slower sample takes over at once, faster ones decay in over time', () => {
  const [b] = makeBackends([1]);
  b!.observeLatency(10, T0);
  assert.equal(b!.latencyMs, 10);
  b!.observeLatency(100, T0 + 1); // peak: jumps straight up
  assert.equal(b!.latencyMs, 100);
  b!.observeLatency(10, T0 + 1 + 10_000); // one decay time later: weight e^-1 on the old value
  const expected = 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1));
  assert.ok(Math.abs(b!.latencyMs - expected) < 1e-9, `estimate ${b!.latencyMs}, expected ${expected}`);
  b!.observeLatency(10, T0 + 1 + 10_000); // no time passed: a faster sample changes nothing yet
  assert.ok(Math.abs(b!.latencyMs - expected) < 1e-9);
});

test('ewma: a stale slow estimate decays with time, so a once-slow backend is tried again', () => {
  const [once, steady] = makeBackends([1, 1]);
  once!.observeLatency(500, T0); // one slow answer, five minutes ago
  const now = T0 + 300_000; // 30 decay periods later
  steady!.observeLatency(5, now);
  const picker = new EwmaPicker();
  const ctx = context(mulberry32(6), { now });
  const picks = Array.from({ length: 50 }, () => picker.pick([once!, steady!], ctx));
  assert.ok(picks.includes(once), 'the backend with a five-minute-old sample is never tried');
});

test('latencyEstimate decays toward zero while no sample arrives', () => {
  const [b] = makeBackends([1]);
  assert.equal(b!.latencyEstimate(T0), 0, 'no sample yet');
  b!.observeLatency(100, T0);
  assert.equal(b!.latencyEstimate(T0), 100);
  assert.ok(Math.abs(b!.latencyEstimate(T0 + 10_000) - 100 * Math.exp(-1)) < 1e-9);
  assert.ok(b!.latencyEstimate(T0 + 300_000) < 1e-9);
  assert.equal(b!.latencyEstimate(T0 - 5_000), 100, 'a clock behind the sample does not inflate it');
});
