/**
 * The Picker interface. Pickers are pure over their inputs: no I/O, timers,
 * logs or metrics; time and randomness arrive in the context. Some keep
 * selection state (smooth round robin's current weights) keyed by Backend.
 */
import type { Backend } from '../upstream/backend.js';

export interface PickContext {
  readonly now: number;
  /** Uniform in [0, 1). */
  readonly rng: () => number;
  readonly slowStartMs: number;
  /** The client's address, for ip-hash and hash with HASH_KEY=ip. */
  readonly clientIp: string;
  /** The affinity key for `hash` (header or cookie value); undefined = use clientIp. */
  readonly hashKey?: string | undefined;
}

export interface Picker {
  readonly name: string;
  /** Chooses one of `backends`, or undefined when the list is empty. */
  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined;
}

export function weightOf(b: Backend, ctx: PickContext): number {
  return b.effectiveWeight(ctx.now, ctx.slowStartMs);
}

/** Weighted random choice; `rng` decides. */
export function weightedRandom(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
  if (backends.length <= 1) return backends[0];
  let total = 0;
  for (const b of backends) total += weightOf(b, ctx);
  let r = ctx.rng() * total;
  for (const b of backends) {
    r -= weightOf(b, ctx);
    if (r < 0) return b;
  }
  return backends[backends.length - 1];
}
