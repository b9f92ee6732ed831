/** Slow start: Backend.effectiveWeight ramps from 10 % to 100 % after turning healthy, and pickers use it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinPicker } from '../../src/balancer/round-robin.js';
import { RandomPicker } from '../../src/balancer/random.js';
import { mulberry32 } from '../helpers/rng.js';
import { T0, context, makeBackend, makeBackends, tally } from '../helpers/backends.js';

const RAMP = 10_000;

test('effectiveWeight ramps linearly from 10 % to 100 % over SLOW_START_MS', () => {
  const b = makeBackend('10.0.0.1:8080;weight=20', T0);
  const cases: Array<[number, number]> = [
    [0, 2],
    [2_500, 2 + 18 * 0.25],
    [5_000, 11],
    [9_999, 2 + 18 * 0.9999],
    [10_000, 20],
    [60_000, 20],
  ];
  for (const [age, expected] of cases) {
    assert.ok(Math.abs(b.effectiveWeight(T0 + age, RAMP) - expected) < 1e-9, `at ${age} ms: ${b.effectiveWeight(T0 + age, RAMP)}`);
  }
});

test('effectiveWeight is the full weight when slow start is off', () => {
  const b = makeBackend('10.0.0.1:8080;weight=20', T0);
  assert.equal(b.effectiveWeight(T0, 0), 20);
});

test('effectiveWeight never drops under the floor if the clock is behind healthySince', () => {
  const b = makeBackend('10.0.0.1:8080;weight=10', T0);
  assert.ok(Math.abs(b.effectiveWeight(T0 - 5_000, RAMP) - 1) < 1e-9);
});

test('a backend that was never healthy has no ramp to apply', () => {
  const b = makeBackend('10.0.0.1:8080;weight=10', T0);
  b.healthySince = 0;
  assert.equal(b.effectiveWeight(T0, RAMP), 10);
});

test('round robin gives a just-healthy backend 10 % of its weight, then all of it', () => {
  const [old, fresh] = makeBackends([10, 10], T0 - 60_000);
  fresh!.healthySince = T0; // turned healthy now
  const picker = new RoundRobinPicker();
  const rng = mulberry32(1);
  const at = (now: number, n: number) => tally(Array.from({ length: n }, () => picker.pick([old!, fresh!], context(rng, { now, slowStartMs: RAMP }))));

  const start = at(T0, 1100); // weights 10 : 1
  assert.equal(start.get(fresh!.id), 100);
  assert.equal(start.get(old!.id), 1000);

  const half = at(T0 + 5_000, 2100); // weights 10 : 5.5
  const share = half.get(fresh!.id)! / 2100;
  assert.ok(Math.abs(share - 5.5 / 15.5) < 0.01, `half-way share ${share}`);

  const done = at(T0 + RAMP, 1000);
  assert.equal(done.get(fresh!.id), 500);
});

test('random picks follow the ramp too', () => {
  const [old, fresh] = makeBackends([1, 1], T0 - 60_000);
  fresh!.healthySince = T0;
  const picker = new RandomPicker();
  const rng = mulberry32(77);
  const n = 20_000;
  const counts = tally(Array.from({ length: n }, () => picker.pick([old!, fresh!], context(rng, { now: T0, slowStartMs: RAMP }))));
  const share = counts.get(fresh!.id)! / n;
  assert.ok(Math.abs(share - 0.1 / 1.1) < 0.01, `fresh share ${share}`);
});
