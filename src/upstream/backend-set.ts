/**
 * Pool membership and the eligible view. Discovery writes membership (as
 * diffs, discovery-source.ts), the prober and the outlier detector write
 * health flags, the operator writes the drain flag; pickers read `eligible()`,
 * a precomputed array rebuilt only when a flag changes or an ejection runs out.
 */
import type { BackendAddress } from './backend-address.js';
import { Backend, type BackendState } from './backend.js';
import { diffAddresses, reorder, type BackendDiff } from './discovery-source.js';

export type BackendEvent = 'added' | 'removed' | 'healthy' | 'unhealthy' | 'ejected' | 'returned' | 'drained' | 'enabled';
export type BackendListener = (backend: Backend, event: BackendEvent, detail?: Record<string, unknown>) => void;

export interface BackendSetOptions {
  /** True when no probing happens (HEALTH_CHECK_TYPE=none): backends start healthy. */
  readonly startHealthy: boolean;
  readonly now?: () => number;
}

export class BackendSet {
  private readonly members = new Map<string, Backend>();
  private readonly listeners: BackendListener[] = [];
  private view: readonly Backend[] = [];
  private dirty = true;
  private nextExpiry = Infinity;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: BackendSetOptions) {
    this.now = options.now ?? Date.now;
  }

  onChange(listener: BackendListener): void {
    this.listeners.push(listener);
  }

  /** Every member, in configuration order. */
  all(): readonly Backend[] {
    return [...this.members.values()];
  }

  get(id: string): Backend | undefined {
    return this.members.get(id);
  }

  get size(): number {
    return this.members.size;
  }

  /** The backends eligible for traffic now. Cheap when nothing changed. */
  eligible(now = this.now()): readonly Backend[] {
    if (this.dirty || now >= this.nextExpiry) this.rebuild(now);
    return this.view;
  }

  /**
   * Applies a discovery diff: removals first, then additions (an id already
   * present with the same scheme only takes the new weight, keeping its
   * counters and flags), then the diff's order if it has one.
   */
  apply(diff: BackendDiff): void {
    const now = this.now();
    for (const id of diff.removed) this.remove(id);
    for (const address of diff.added) {
      const existing = this.members.get(address.id);
      if (existing !== undefined && existing.scheme === address.scheme) {
        existing.weight = address.weight;
        continue;
      }
      // A scheme change (http ⇄ https) makes it another backend: new connections, new health.
      if (existing !== undefined) this.remove(address.id);
      const backend = new Backend(address, this.options.startHealthy ? true : undefined, now);
      this.members.set(address.id, backend);
      this.emit(backend, 'added', { weight: address.weight });
    }
    if (diff.order !== undefined) {
      const ordered = reorder(this.members, diff.order);
      this.members.clear();
      for (const b of ordered) this.members.set(b.id, b);
    }
    this.dirty = true;
  }

  /** Makes the membership equal to `addresses` (in their order): adds, removes, updates weights. */
  replace(addresses: readonly BackendAddress[]): void {
    this.apply(diffAddresses(this.all(), addresses));
  }

  /** The prober's verdict. The first verdict always applies; callers own thresholds. */
  setHealthy(backend: Backend, healthy: boolean): void {
    if (backend.probeHealthy === healthy || !this.members.has(backend.id)) return;
    backend.probeHealthy = healthy;
    if (healthy) backend.healthySince = this.now();
    this.dirty = true;
    this.emit(backend, healthy ? 'healthy' : 'unhealthy');
  }

  eject(backend: Backend, untilMs: number, detail: Record<string, unknown>): void {
    backend.ejectedUntil = untilMs;
    backend.ejections += 1;
    this.dirty = true;
    this.emit(backend, 'ejected', detail);
    this.scheduleExpiry();
  }

  setDrained(backend: Backend, drained: boolean, detail?: Record<string, unknown>): void {
    if (backend.drained === drained) return;
    backend.drained = drained;
    if (!drained) backend.healthySince = this.now();
    this.dirty = true;
    this.emit(backend, drained ? 'drained' : 'enabled', detail);
  }

  /** Count of backends per state, for the outrigger_backends gauge. */
  countByState(now = this.now()): Record<BackendState, number> {
    const counts: Record<BackendState, number> = { healthy: 0, unhealthy: 0, ejected: 0, drained: 0 };
    for (const b of this.members.values()) counts[b.state(now)] += 1;
    return counts;
  }

  close(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private remove(id: string): void {
    const backend = this.members.get(id);
    if (backend === undefined) return;
    this.members.delete(id);
    backend.removed = true;
    this.emit(backend, 'removed');
  }

  private rebuild(now: number): void {
    const view: Backend[] = [];
    let next = Infinity;
    for (const b of this.members.values()) {
      if (b.eligible(now)) view.push(b);
      else if (b.isEjected(now)) next = Math.min(next, b.ejectedUntil);
    }
    this.view = Object.freeze(view);
    this.nextExpiry = next;
    this.dirty = false;
  }

  /** Ejections end by time; a timer makes their end visible (logs, gauges) without traffic. */
  private scheduleExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    const now = this.now();
    let next = Infinity;
    for (const b of this.members.values()) if (b.ejectedUntil > now) next = Math.min(next, b.ejectedUntil);
    if (next === Infinity) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const t = this.now();
      for (const b of this.members.values()) {
        if (b.ejectedUntil !== 0 && b.ejectedUntil <= t) {
          b.ejectedUntil = 0;
          b.healthySince = t;
          this.emit(b, 'returned');
        }
      }
      this.dirty = true;
      this.scheduleExpiry();
    }, Math.max(1, next - now + 1));
    this.expiryTimer.unref();
  }

  private emit(backend: Backend, event: BackendEvent, detail?: Record<string, unknown>): void {
    for (const listener of this.listeners) listener(backend, event, detail);
  }
}
