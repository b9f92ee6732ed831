/**
 * Smooth weighted round robin (the NGINX algorithm): each pick adds every
 * backend's weight to its running score, takes the highest, and subtracts the
 * total from the winner. Weights 1:3:2 interleave as B C A B C B, not in bursts.
 */
import type { Backend } from '../upstream/backend.js';
import { weightOf, type PickContext, type Picker } from './picker.js';

export class SmoothWeighted {
  private readonly current = new WeakMap<Backend, number>();

  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    if (backends.length <= 1) return backends[0];
    let total = 0;
    let best: Backend | undefined;
    let bestScore = -Infinity;
    for (const b of backends) {
      const w = weightOf(b, ctx);
      const score = (this.current.get(b) ?? 0) + w;
      this.current.set(b, score);
      total += w;
      if (score > bestScore) {
        bestScore = score;
        best = b;
      }
    }
    if (best !== undefined) this.current.set(best, bestScore - total);
    return best;
  }
}

export class RoundRobinPicker implements Picker {
  readonly name = 'round-robin';
  private readonly smooth = new SmoothWeighted();

  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    return this.smooth.pick(backends, ctx);
  }
}
