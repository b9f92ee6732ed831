/**
 * The shared conformance suite: every picker in PICKERS runs the same cases.
 * Pickers are pure over (backends, ctx), with randomness and time injected,
 * so every case is deterministic.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PICKERS } from '../../src/balancer/index.js';
import type { Picker } from '../../src/balancer/picker.js';
import { ALGORITHMS, type Algorithm } from '../../src/config.js';
import type { Backend } from '../../src/upstream/backend.js';
import { mulberry32 } from '../helpers/rng.js';
import { context, makeBackends, tally } from '../helpers/backends.js';

/** Pickers whose choice is a function of the request key, not of rng or load. */
const AFFINITY = new Set<Algorithm>(['ip-hash', 'hash']);
/**
 * Pickers whose idle traffic follows the weights. `ewma` is left out on
 * purpose: with no latency samples its cost is 1/weight, so of two idle
 * draws it always keeps the heavier one (see p2c.test.ts).
 */
const FOLLOWS_WEIGHTS_WHEN_IDLE = new Set<Algorithm>(['round-robin', 'least-connections', 'random', 'p2c', 'ip-hash', 'hash']);

/** Pickers that draw from ctx.rng. */
const RNG_DRIVEN = new Set<Algorithm>(['random', 'p2c', 'ewma']);

/** The i-th distinct request key: a client address and a hash key. */
function keyed(i: number): { clientIp: string; hashKey: string } {
  return { clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hashKey: `user-${i}` };
}

function pickMany(picker: Picker, backends: readonly Backend[], n: number, seed = 1, from = 0): Array<Backend | undefined> {
  const rng = mulberry32(seed);
  const out: Array<Backend | undefined> = [];
  for (let i = 0; i < n; i++) out.push(picker.pick(backends, context(rng, keyed(from + i))));
  return out;
}

test('PICKERS has exactly one picker per LB_ALGORITHM value, named after it', () => {
  assert.deepEqual(Object.keys(PICKERS).sort(), [...ALGORITHMS].sort());
  for (const algorithm of ALGORITHMS) assert.equal(PICKERS[algorithm]().name, algorithm);
});

test('PICKERS factories return a fresh picker each time (no shared selection state)', () => {
  for (const algorithm of ALGORITHMS) assert.notEqual(PICKERS[algorithm](), PICKERS[algorithm]());
});

for (const algorithm of ALGORITHMS) {
  const create = PICKERS[algorithm];

  describe(`picker conformance: ${algorithm}`, () => {
    test('an empty list gives undefined', () => {
      const picker = create();
      assert.equal(picker.pick([], context(mulberry32(1))), undefined);
      assert.equal(picker.pick([], context(mulberry32(1), keyed(7))), undefined);
    });

    test('a single backend is always picked', () => {
      const picker = create();
      const [only] = makeBackends([5]);
      for (const b of pickMany(picker, [only!], 50)) assert.equal(b, only);
    });

    test('the result is always a member of the given list', () => {
      const picker = create();
      const backends = makeBackends([1, 2, 3, 4, 5]);
      const members = new Set(backends);
      for (const b of pickMany(picker, backends, 2000)) assert.ok(b !== undefined && members.has(b), `picked ${b?.id}`);
    });

    test('after the list shrinks, removed backends are never picked', () => {
      const picker = create();
      const backends = makeBackends([1, 2, 3, 4, 5]);
      pickMany(picker, backends, 500);
      const shrunk = [backends[0]!, backends[2]!, backends[4]!];
      const members = new Set(shrunk);
      const picks = pickMany(picker, shrunk, 3000, 2, 500);
      for (const b of picks) assert.ok(b !== undefined && members.has(b), `picked removed ${b?.id}`);
      if (FOLLOWS_WEIGHTS_WHEN_IDLE.has(algorithm)) assert.equal(tally(picks).size, 3, 'all remaining backends still take traffic');
    });

    test('the same seed and inputs give the same sequence', () => {
      const backends = makeBackends([1, 3, 2, 1]);
      const first = pickMany(create(), backends, 1000, 42).map((b) => b?.id);
      const second = pickMany(create(), backends, 1000, 42).map((b) => b?.id);
      assert.deepEqual(first, second);
    });

    test('with distinct keys every backend is picked at least once', () => {
      // Equal weights: every algorithm, ewma included, must spread idle traffic.
      const backends = makeBackends([1, 1, 1, 1, 1, 1, 1, 1]);
      const counts = tally(pickMany(create(), backends, 4000));
      for (const b of backends) assert.ok((counts.get(b.id) ?? 0) > 0, `${b.id} never picked`);
    });

    if (RNG_DRIVEN.has(algorithm)) {
      test('randomness comes from ctx.rng: another seed gives another sequence', () => {
        const backends = makeBackends([1, 3, 2, 1]);
        const a = pickMany(create(), backends, 200, 42).map((b) => b?.id);
        const b = pickMany(create(), backends, 200, 43).map((b) => b?.id);
        assert.notDeepEqual(a, b);
      });
    }

    if (FOLLOWS_WEIGHTS_WHEN_IDLE.has(algorithm)) {
      test('idle traffic follows the weights (1:3:2:4)', () => {
        const weights = [1, 3, 2, 4];
        const backends = makeBackends(weights);
        const n = 20_000;
        const counts = tally(pickMany(create(), backends, n, 7));
        const total = weights.reduce((a, b) => a + b, 0);
        backends.forEach((b, i) => {
          const share = (counts.get(b.id) ?? 0) / n;
          const expected = weights[i]! / total;
          // ±2 points: far tighter than the 15-point gaps that ignoring weights would cause.
          assert.ok(Math.abs(share - expected) < 0.02, `${b.id}: share ${share.toFixed(3)}, expected ${expected.toFixed(3)}`);
        });
      });
    }

    if (AFFINITY.has(algorithm)) {
      test('the same key always gets the same backend', () => {
        const picker = create();
        const backends = makeBackends([1, 2, 3, 1, 2]);
        const rng = mulberry32(3);
        for (let i = 0; i < 300; i++) {
          const first = picker.pick(backends, context(rng, keyed(i)));
          for (let repeat = 0; repeat < 5; repeat++) {
            // Unrelated picks in between must not disturb affinity.
            picker.pick(backends, context(rng, keyed(10_000 + repeat)));
            assert.equal(picker.pick(backends, context(rng, keyed(i))), first);
          }
        }
      });

      test('removing a backend moves only the keys that were on it', () => {
        const picker = create();
        const backends = makeBackends([1, 2, 3, 1, 2]);
        const removed = backends[2]!;
        const rest = backends.filter((b) => b !== removed);
        const n = 5000;
        const before = pickMany(picker, backends, n);
        const after = pickMany(picker, rest, n);
        let moved = 0;
        for (let i = 0; i < n; i++) {
          if (before[i] === removed) {
            moved += 1;
            assert.ok(after[i] !== undefined && rest.includes(after[i]!), `key ${i} went nowhere valid`);
          } else {
            assert.equal(after[i], before[i], `key ${i} moved from ${before[i]?.id} to ${after[i]?.id}`);
          }
        }
        assert.ok(moved > n / 10, `only ${moved} keys were on the removed backend`);
      });

      test('adding a backend moves keys only onto the new one', () => {
        const picker = create();
        const backends = makeBackends([1, 1, 1, 1, 1]);
        const old = backends.slice(0, 4);
        const added = backends[4]!;
        const n = 5000;
        const before = pickMany(picker, old, n);
        const after = pickMany(picker, backends, n);
        let moved = 0;
        for (let i = 0; i < n; i++) {
          if (after[i] !== before[i]) {
            moved += 1;
            assert.equal(after[i], added, `key ${i} moved between old backends`);
          }
        }
        // About a fifth of the keys should move to the new, equally weighted backend.
        assert.ok(moved > n * 0.15 && moved < n * 0.25, `${moved} of ${n} keys moved`);
      });
    }
  });
}
