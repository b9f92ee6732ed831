/**
 * Distribution simulations: 10,000 requests on a fake clock, with seeded
 * arrivals and service times, so in-flight counts and latency estimates
 * evolve as they would under load. Ratios are checked with tolerances that
 * are far tighter than what a broken algorithm (weights ignored, load
 * ignored) would produce.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PICKERS } from '../../src/balancer/index.js';
import { ALGORITHMS, type Algorithm } from '../../src/config.js';
import type { Backend } from '../../src/upstream/backend.js';
import { mulberry32 } from '../helpers/rng.js';
import { T0, makeBackends } from '../helpers/backends.js';

interface Scenario {
  readonly algorithm: Algorithm;
  readonly weights: readonly number[];
  /** Mean service time per backend, ms. */
  readonly serviceMs: readonly number[];
  /** Mean time between arrivals, ms. */
  readonly interArrivalMs: number;
  readonly requests?: number;
  readonly seed?: number;
  /** Distinct clients (for ip-hash / hash). */
  readonly clients?: number;
  /** Extra service time per request already in flight on the backend (a server that slows under load). */
  readonly queuePenaltyMs?: number;
}

interface Outcome {
  readonly shares: number[];
  readonly meanLatencyMs: number;
  readonly maxInFlight: number[];
}

function simulate(s: Scenario): Outcome {
  const { requests = 10_000, seed = 2024, clients = 5000, queuePenaltyMs = 0 } = s;
  const rng = mulberry32(seed);
  const picker = PICKERS[s.algorithm]();
  const backends = makeBackends(s.weights, T0 - 3_600_000);
  const counts = new Array<number>(backends.length).fill(0);
  const maxInFlight = new Array<number>(backends.length).fill(0);
  const index = new Map<Backend, number>(backends.map((b, i) => [b, i]));
  let open: Array<{ end: number; backend: Backend; duration: number }> = [];
  let now = T0;
  let totalLatency = 0;
  for (let i = 0; i < requests; i++) {
    now += -Math.log(1 - rng()) * s.interArrivalMs; // exponential inter-arrival times
    // Complete what ended before this arrival, in time order.
    const done = open.filter((r) => r.end <= now).sort((a, b) => a.end - b.end);
    open = open.filter((r) => r.end > now);
    for (const r of done) {
      r.backend.inFlight -= 1;
      r.backend.observeLatency(r.duration, r.end);
    }
    const client = Math.floor(rng() * clients);
    const backend = picker.pick(backends, {
      now, rng, slowStartMs: 0, clientIp: `10.${(client >> 8) & 255}.${client & 255}.1`, hashKey: `session-${client}`,
    })!;
    const k = index.get(backend)!;
    counts[k]! += 1;
    backend.inFlight += 1;
    maxInFlight[k] = Math.max(maxInFlight[k]!, backend.inFlight);
    // Service time: uniform in [0.5, 1.5] × the backend's mean, plus the queueing penalty.
    const duration = s.serviceMs[k]! * (0.5 + rng()) + queuePenaltyMs * (backend.inFlight - 1);
    totalLatency += duration;
    open.push({ end: now + duration, backend, duration });
  }
  return { shares: counts.map((c) => c / requests), meanLatencyMs: totalLatency / requests, maxInFlight };
}

function assertShares(actual: readonly number[], expected: readonly number[], tolerance: number, label: string): void {
  actual.forEach((share, i) => {
    assert.ok(
      Math.abs(share - expected[i]!) <= tolerance,
      `${label}: backend ${i} got ${(share * 100).toFixed(1)} %, expected ${(expected[i]! * 100).toFixed(1)} % ± ${(tolerance * 100).toFixed(1)}`,
    );
  });
}

const WEIGHTS = [1, 2, 3, 4];
const WEIGHT_SHARES = WEIGHTS.map((w) => w / 10);

describe('weighted distribution, equal backends, about 20 requests in flight', () => {
  /** Tolerance per algorithm, in share points. Ignoring weights would be off by 5–15 points. */
  const TOLERANCE: Record<Algorithm, number> = {
    'round-robin': 0.001,
    'least-connections': 0.025,
    p2c: 0.02,
    // Peak-EWMA divides its cost by the weight: roughly proportional under load, not exactly.
    ewma: 0.04,
    random: 0.015,
    'ip-hash': 0.015,
    hash: 0.015,
  };
  for (const algorithm of ALGORITHMS) {
    test(`${algorithm}: weights 1:2:3:4 → 10/20/30/40 % (± ${TOLERANCE[algorithm] * 100} points)`, () => {
      const { shares } = simulate({ algorithm, weights: WEIGHTS, serviceMs: [20, 20, 20, 20], interArrivalMs: 1 });
      assertShares(shares, WEIGHT_SHARES, TOLERANCE[algorithm], algorithm);
    });
  }

  test('equal weights: every algorithm spreads evenly (±3 points)', () => {
    for (const algorithm of ALGORITHMS) {
      const { shares } = simulate({ algorithm, weights: [1, 1, 1, 1], serviceMs: [20, 20, 20, 20], interArrivalMs: 2.5 });
      assertShares(shares, [0.25, 0.25, 0.25, 0.25], 0.03, algorithm);
    }
  });
});

describe('one slow backend (10× the service time), equal weights', () => {
  const SERVICE = [20, 20, 200];
  const scenario = (algorithm: Algorithm) => simulate({ algorithm, weights: [1, 1, 1], serviceMs: SERVICE, interArrivalMs: 4, queuePenaltyMs: 0.5 });

  test('round-robin and random ignore speed: the slow backend keeps a third (the control)', () => {
    assertShares(scenario('round-robin').shares, [1 / 3, 1 / 3, 1 / 3], 0.001, 'round-robin');
    assertShares(scenario('random').shares, [1 / 3, 1 / 3, 1 / 3], 0.02, 'random');
  });

  for (const algorithm of ['least-connections', 'p2c', 'ewma'] as const) {
    test(`${algorithm} sends the slow backend much less than a third, and lowers mean latency`, () => {
      const { shares, meanLatencyMs } = scenario(algorithm);
      assert.ok(shares[2]! < 0.2, `${algorithm}: slow backend got ${(shares[2]! * 100).toFixed(1)} %`);
      assert.ok(Math.abs(shares[0]! - shares[1]!) < 0.05, `${algorithm}: the two fast backends should share evenly: ${shares.join(', ')}`);
      const baseline = scenario('round-robin').meanLatencyMs;
      assert.ok(meanLatencyMs < baseline * 0.75, `${algorithm}: mean latency ${meanLatencyMs.toFixed(1)} ms vs round-robin ${baseline.toFixed(1)} ms`);
    });
  }

  test('ewma reacts to latency even at low concurrency, where in-flight counts rarely differ', () => {
    // Arrivals 50 ms apart: fast backends are usually idle, so only latency tells them apart.
    const ewma = simulate({ algorithm: 'ewma', weights: [1, 1, 1], serviceMs: [5, 5, 60], interArrivalMs: 50 });
    const p2c = simulate({ algorithm: 'p2c', weights: [1, 1, 1], serviceMs: [5, 5, 60], interArrivalMs: 50 });
    assert.ok(ewma.shares[2]! < 0.05, `ewma: slow backend got ${(ewma.shares[2]! * 100).toFixed(1)} %`);
    assert.ok(ewma.shares[2]! < p2c.shares[2]! / 2, `ewma ${ewma.shares[2]} vs p2c ${p2c.shares[2]}`);
  });
});

describe('simulation sanity', () => {
  test('the simulation is deterministic for a seed', () => {
    const a = simulate({ algorithm: 'p2c', weights: WEIGHTS, serviceMs: [20, 20, 20, 20], interArrivalMs: 2.5, requests: 2000 });
    const b = simulate({ algorithm: 'p2c', weights: WEIGHTS, serviceMs: [20, 20, 20, 20], interArrivalMs: 2.5, requests: 2000 });
    assert.deepEqual(a, b);
  });

  test('load-aware pickers keep in-flight peaks lower than round-robin on the slow backend', () => {
    const SERVICE = [20, 20, 200];
    for (const algorithm of ['least-connections', 'p2c', 'ewma'] as const) {
      const rr = simulate({ algorithm: 'round-robin', weights: [1, 1, 1], serviceMs: SERVICE, interArrivalMs: 4 });
      const aware = simulate({ algorithm, weights: [1, 1, 1], serviceMs: SERVICE, interArrivalMs: 4 });
      assert.ok(aware.maxInFlight[2]! < rr.maxInFlight[2]! * 0.7, `${algorithm} peak ${aware.maxInFlight[2]} vs round-robin ${rr.maxInFlight[2]}`);
    }
  });
});
