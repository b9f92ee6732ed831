/**
 * Fixtures for picker tests: backends built through the real entry parser,
 * a fake clock, and a PickContext with injected time and randomness.
 */
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import type { PickContext } from '../../src/balancer/picker.js';

/** A fixed, non-zero start time (0 means "never" for Backend.healthySince). */
export const T0 = 1_700_000_000_000;

/** Healthy backends 10.0.0.1:8080, 10.0.0.2:8080, … with the given weights. */
export function makeBackends(weights: readonly number[], now = T0): Backend[] {
  return weights.map((w, i) => new Backend(parseBackendEntry(`10.0.0.${i + 1}:8080;weight=${w}`), true, now));
}

export function makeBackend(entry: string, now = T0): Backend {
  return new Backend(parseBackendEntry(entry), true, now);
}

export function context(rng: () => number, overrides: Partial<PickContext> = {}): PickContext {
  return { now: T0, rng, slowStartMs: 0, clientIp: '192.0.2.1', ...overrides };
}

/** A clock tests move by hand. */
export class FakeClock {
  constructor(public t = T0) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

/** How many times each backend id appears in `picks`. */
export function tally(picks: ReadonlyArray<Backend | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of picks) {
    const id = b === undefined ? 'undefined' : b.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
