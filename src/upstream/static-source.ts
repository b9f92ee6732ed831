/** A fixed list of backends (BACKENDS entries without `dns+`, or a file's): reported once, never changes. */
import type { BackendAddress } from './backend-address.js';
import { diffAddresses, type DiscoverySource, type EmitDiff } from './discovery-source.js';

export class StaticSource implements DiscoverySource {
  constructor(private readonly addresses: readonly BackendAddress[]) {}

  async start(emit: EmitDiff): Promise<void> {
    if (this.addresses.length > 0) emit(diffAddresses([], this.addresses));
  }

  close(): void {}
}
