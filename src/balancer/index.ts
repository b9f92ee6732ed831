/** Builds the picker LB_ALGORITHM names. */
import type { Algorithm } from '../config.js';
import type { Picker } from './picker.js';
import { RoundRobinPicker } from './round-robin.js';
import { LeastConnectionsPicker } from './least-connections.js';
import { P2cPicker, EwmaPicker } from './p2c.js';
import { RandomPicker } from './random.js';
import { HashPicker, IpHashPicker } from './hash.js';

export type { Picker, PickContext } from './picker.js';

export const PICKERS: Readonly<Record<Algorithm, () => Picker>> = {
  'round-robin': () => new RoundRobinPicker(),
  'least-connections': () => new LeastConnectionsPicker(),
  p2c: () => new P2cPicker(),
  ewma: () => new EwmaPicker(),
  random: () => new RandomPicker(),
  'ip-hash': () => new IpHashPicker(),
  hash: () => new HashPicker(),
};

export function createPicker(algorithm: Algorithm): Picker {
  return PICKERS[algorithm]();
}
