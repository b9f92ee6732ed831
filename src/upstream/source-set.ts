/**
 * Several discovery sources as one: the membership is each source's backends
 * in the order the sources were given (configuration order), a backend that
 * two sources report counted once with the first one's scheme and weight
 * (`onConflict` hears of it, once per backend, when the two differ). A change in
 * any source becomes one diff of that merged membership. replaceChildren()
 * swaps every source at once (a CONFIG_FILE reload): the new ones are started
 * first, then one diff moves the membership from the old ones to the new.
 */
import type { Logger } from '../log.js';
import type { BackendAddress } from './backend-address.js';
import { applyDiff, diffAddresses, isEmptyDiff, type DiscoverySource, type EmitDiff } from './discovery-source.js';

/** A backend two sources report with different settings: `kept` is used, `ignored` is not. */
export type OnConflict = (kept: BackendAddress, ignored: BackendAddress) => void;

interface Child {
  readonly source: DiscoverySource;
  list: BackendAddress[];
}

export class SourceSet implements DiscoverySource {
  private children: Child[];
  private merged: BackendAddress[] = [];
  private emit: EmitDiff | undefined;
  private closed = false;
  /** replaceChildren() calls run one after another. */
  private swaps: Promise<void> = Promise.resolve();

  /** Backends already reported to `onConflict`. */
  private readonly conflicts = new Set<string>();

  constructor(sources: readonly DiscoverySource[], private readonly onConflict?: OnConflict) {
    this.children = sources.map((source) => ({ source, list: [] }));
  }

  async start(emit: EmitDiff): Promise<void> {
    await this.startAll(this.children);
    this.emit = emit;
    this.publish();
  }

  /** Replaces every source; resolves when the new ones have reported and the diff is out. */
  replaceChildren(sources: readonly DiscoverySource[]): Promise<void> {
    this.swaps = this.swaps.then(async () => {
      if (this.closed) return;
      const next = sources.map((source) => ({ source, list: [] as BackendAddress[] }));
      await this.startAll(next);
      const old = this.children;
      this.children = next;
      for (const child of old) child.source.close();
      if (this.closed) {
        for (const child of next) child.source.close();
        return;
      }
      this.publish();
    });
    return this.swaps;
  }

  close(): void {
    this.closed = true;
    for (const child of this.children) child.source.close();
  }

  /** What this set reports now, in order. */
  current(): readonly BackendAddress[] {
    return this.merged;
  }

  /** Starts `children`, each one's diffs kept in its list; a child that is no longer current is ignored. */
  private async startAll(children: readonly Child[]): Promise<void> {
    await Promise.all(children.map((child) => child.source.start((diff) => {
      child.list = applyDiff(child.list, diff);
      if (this.emit !== undefined && this.children.includes(child)) this.publish();
    })));
  }

  /** Merges the children's lists and emits the difference from the last merge. */
  private publish(): void {
    if (this.closed || this.emit === undefined) return;
    const merged: BackendAddress[] = [];
    const seen = new Map<string, BackendAddress>();
    for (const child of this.children) {
      for (const address of child.list) {
        const kept = seen.get(address.id);
        if (kept === undefined) {
          seen.set(address.id, address);
          merged.push(address);
        } else if ((kept.scheme !== address.scheme || kept.weight !== address.weight) && !this.conflicts.has(address.id)) {
          this.conflicts.add(address.id);
          this.onConflict?.(kept, address);
        }
      }
    }
    const diff = diffAddresses(this.merged, merged);
    const unchanged = isEmptyDiff(diff, this.merged);
    this.merged = merged;
    if (!unchanged) this.emit(diff);
  }
}

/** The warn line for a backend that two entries (a `dns+` name and a static address, say) give different settings. */
export function warnConflict(logger: Logger): OnConflict {
  return (kept, ignored) => logger.warn(
    { backend: kept.id, used: { scheme: kept.scheme, weight: kept.weight }, ignored: { scheme: ignored.scheme, weight: ignored.weight } },
    'backend listed twice with different settings (a dns+ name and an address, say): the first entry\'s are used',
  );
}
