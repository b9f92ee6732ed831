/** Weighted random. */
import type { Backend } from '../upstream/backend.js';
import { weightedRandom, type PickContext, type Picker } from './picker.js';

export class RandomPicker implements Picker {
  readonly name = 'random';
  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    return weightedRandom(backends, ctx);
  }
}
