/**
 * The discovery contract. A source (a static list, a DNS name, CONFIG_FILE,
 * one day a Kubernetes EndpointSlice watch) reports the backends it knows as
 * diffs against what it reported before; SourceSet merges several sources and
 * BackendSet applies the merged diffs. A new kind of discovery is one class
 * implementing DiscoverySource, listed in discovery.ts or app.ts.
 */
import type { BackendAddress } from './backend-address.js';

export interface BackendDiff {
  /** Backends that appeared, and backends whose weight changed (same id and scheme). */
  readonly added: readonly BackendAddress[];
  /** Ids that left. A scheme change is a removal plus an addition of the same id. */
  readonly removed: readonly string[];
  /**
   * The source's whole membership, in order, after this diff, when the source
   * has an order (configuration order, sorted records). Members it omits keep
   * their relative order after the listed ones. Sources without an order leave it out.
   */
  readonly order?: readonly string[];
}

export type EmitDiff = (diff: BackendDiff) => void;

export interface DiscoverySource {
  /**
   * Starts discovering. `emit` receives every change; the first call carries
   * everything the source knows at first. Resolves once that first result is
   * emitted (a source that finds nothing at first emits nothing). Never rejects.
   */
  start(emit: EmitDiff): Promise<void>;
  /** Stops timers and watches; emits nothing afterwards, even from work already under way. */
  close(): void;
}

/** The fields a diff compares. */
export type Membership = Pick<BackendAddress, 'id' | 'scheme' | 'weight'>;

/** The diff that turns `before` into `after` (both without duplicate ids), with `after`'s order. */
export function diffAddresses(before: readonly Membership[], after: readonly BackendAddress[]): BackendDiff {
  const wanted = new Map(after.map((a) => [a.id, a]));
  const had = new Map(before.map((b) => [b.id, b]));
  const removed = before.filter((b) => wanted.get(b.id)?.scheme !== b.scheme).map((b) => b.id);
  const added = after.filter((a) => {
    const old = had.get(a.id);
    return old === undefined || old.scheme !== a.scheme || old.weight !== a.weight;
  });
  return { added, removed, order: after.map((a) => a.id) };
}

export function isEmptyDiff(diff: BackendDiff, before: readonly Membership[]): boolean {
  return diff.added.length === 0 && diff.removed.length === 0
    && (diff.order === undefined || sameOrder(before.map((b) => b.id), diff.order));
}

/** `list` with `diff` applied: removals, then additions (in place when the id is already there), then the order. */
export function applyDiff(list: readonly BackendAddress[], diff: BackendDiff): BackendAddress[] {
  const members = new Map(list.map((a) => [a.id, a]));
  for (const id of diff.removed) members.delete(id);
  for (const a of diff.added) members.set(a.id, a);
  return reorder(members, diff.order);
}

/** The values of `members` with the ids in `order` first, in that order, then the rest as they were. */
export function reorder<T>(members: ReadonlyMap<string, T>, order: readonly string[] | undefined): T[] {
  if (order === undefined) return [...members.values()];
  const out: T[] = [];
  const placed = new Set<string>();
  for (const id of order) {
    const m = members.get(id);
    if (m === undefined || placed.has(id)) continue;
    placed.add(id);
    out.push(m);
  }
  for (const [id, m] of members) if (!placed.has(id)) out.push(m);
  return out;
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
