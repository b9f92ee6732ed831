/**
 * Weighted least connections: the lowest in-flight/weight ratio wins; ties
 * (for example when everything is idle) are broken by smooth weighted round
 * robin, so light traffic still follows the weights.
 */
import type { Backend } from '../upstream/backend.js';
import { weightOf, type PickContext, type Picker } from './picker.js';
import { SmoothWeighted } from './round-robin.js';

export class LeastConnectionsPicker implements Picker {
  readonly name = 'least-connections';
  private readonly tieBreak = new SmoothWeighted();

  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    if (backends.length <= 1) return backends[0];
    let best = Infinity;
    let tied: Backend[] = [];
    for (const b of backends) {
      const load = b.inFlight / weightOf(b, ctx);
      if (load < best) {
        best = load;
        tied = [b];
      } else if (load === best) {
        tied.push(b);
      }
    }
    return tied.length === 1 ? tied[0] : this.tieBreak.pick(tied, ctx);
  }
}
