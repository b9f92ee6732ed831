/**
 * Pool membership and the eligible view. Discovery writes membership, the
 * prober and the outlier detector write health flags, the operator writes the
 * drain flag; pickers read `eligible()`, a precomputed array rebuilt only when
 * a flag changes or an ejection runs out.
 */
import type { BackendAddress } from './backend-address.js';
import { Backend, type BackendState } from './backend.js';

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

  /** Makes the membership equal to `addresses` (in their order): adds, removes, updates weights. */
  replace(addresses: readonly BackendAddress[]): void {
    const now = this.now();
    const wanted = new Map(addresses.map((a) => [a.id, a]));
    for (const [id, backend] of this.members) {
      // A scheme change (http ⇄ https) makes it another backend: new connections, new health.
      if (!wanted.has(id) || wanted.get(id)!.scheme !== backend.scheme) {
        this.members.delete(id);
        backend.removed = true;
        this.emit(backend, 'removed');
      }
    }
    const previous = new Map(this.members);
    this.members.clear();
    for (const address of addresses) {
      const existing = previous.get(address.id);
      if (existing !== undefined) {
        existing.weight = address.weight;
        this.members.set(address.id, existing);
        continue;
      }
      const backend = new Backend(address, this.options.startHealthy ? true : undefined, now);
      this.members.set(address.id, backend);
      this.emit(backend, 'added', { weight: address.weight });
    }
    this.dirty = true;
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
