/**
 * Power of two choices: draw two distinct backends (weighted), keep the one
 * with the lower cost. `p2c` costs in-flight/weight; `ewma` (Peak-EWMA, as in
 * linkerd and Finagle) costs latency estimate × (in-flight + 1) / weight.
 */
import type { Backend } from '../upstream/backend.js';
import { weightOf, weightedRandom, type PickContext, type Picker } from './picker.js';

/** Latency assumed for a backend that has not answered yet, so it gets tried. */
const DEFAULT_LATENCY_MS = 1;

abstract class TwoChoices implements Picker {
  abstract readonly name: string;
  protected abstract cost(b: Backend, ctx: PickContext): number;

  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    if (backends.length <= 1) return backends[0];
    const a = weightedRandom(backends, ctx)!;
    const rest = backends.filter((b) => b !== a);
    const b = weightedRandom(rest, ctx)!;
    return this.cost(b, ctx) < this.cost(a, ctx) ? b : a;
  }
}

export class P2cPicker extends TwoChoices {
  readonly name = 'p2c';
  protected cost(b: Backend, ctx: PickContext): number {
    return b.inFlight / weightOf(b, ctx);
  }
}

export class EwmaPicker extends TwoChoices {
  readonly name = 'ewma';
  protected cost(b: Backend, ctx: PickContext): number {
    const latency = b.latencyMs > 0 ? b.latencyEstimate(ctx.now) : DEFAULT_LATENCY_MS;
    return (latency * (b.inFlight + 1)) / weightOf(b, ctx);
  }
}
