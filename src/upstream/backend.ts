/**
 * One backend: its address, the flags that health checking, outlier detection
 * and the operator write, and the counters the data plane updates. Pickers
 * only read it (through BackendSet's eligible view).
 */
import type { BackendAddress, Scheme } from './backend-address.js';

export type BackendState = 'healthy' | 'unhealthy' | 'ejected' | 'drained';

export interface ProbeResult {
  readonly at: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/** Slow start begins at this share of the weight. */
const SLOW_START_FLOOR = 0.1;
/** Peak-EWMA decay time for the latency estimate. */
const EWMA_DECAY_MS = 10_000;

export class Backend {
  readonly id: string;
  readonly scheme: Scheme;
  readonly host: string;
  readonly port: number;
  weight: number;

  /** Active probe verdict; undefined until the first probe answered. */
  probeHealthy: boolean | undefined;
  drained = false;
  ejectedUntil = 0;
  ejections = 0;
  /** When the backend last turned eligible, for slow start. */
  healthySince = 0;
  lastProbe: ProbeResult | undefined;

  /** Set when the backend leaves the set: what its last exchanges report then is not recorded per backend. */
  removed = false;
  inFlight = 0;
  requests = 0;
  failures = 0;
  consecutiveFailures = 0;
  /** Peak-EWMA of response-header latency in ms; 0 until the first response. */
  latencyMs = 0;
  private latencyAt = 0;

  constructor(address: BackendAddress, initiallyHealthy: boolean | undefined, now: number) {
    this.id = address.id;
    this.scheme = address.scheme;
    this.host = address.host;
    this.port = address.port;
    this.weight = address.weight;
    this.probeHealthy = initiallyHealthy;
    if (initiallyHealthy === true) this.healthySince = now;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  eligible(now: number): boolean {
    return this.probeHealthy === true && !this.drained && !this.isEjected(now);
  }

  state(now: number): BackendState {
    if (this.drained) return 'drained';
    if (this.isEjected(now)) return 'ejected';
    return this.probeHealthy === true ? 'healthy' : 'unhealthy';
  }

  /** The weight pickers use: ramps from 10 % to 100 % over `slowStartMs` after turning healthy. */
  effectiveWeight(now: number, slowStartMs: number): number {
    if (slowStartMs <= 0 || this.healthySince === 0) return this.weight;
    const age = now - this.healthySince;
    if (age >= slowStartMs) return this.weight;
    return this.weight * (SLOW_START_FLOOR + (1 - SLOW_START_FLOOR) * Math.max(0, age) / slowStartMs);
  }

  /**
   * The latency estimate as of `now`: it decays toward zero while no sample
   * arrives (as Finagle's Peak-EWMA does on read), so a backend that once
   * answered slowly is tried again instead of being starved for good.
   */
  latencyEstimate(now: number): number {
    if (this.latencyAt === 0) return 0;
    return this.latencyMs * Math.exp(-Math.max(0, now - this.latencyAt) / EWMA_DECAY_MS);
  }

  /** Peak-EWMA: a slower sample takes over at once, faster ones decay in. */
  observeLatency(ms: number, now: number): void {
    if (this.latencyAt === 0 || ms > this.latencyMs) {
      this.latencyMs = ms;
    } else {
      const w = Math.exp(-Math.max(0, now - this.latencyAt) / EWMA_DECAY_MS);
      this.latencyMs = this.latencyMs * w + ms * (1 - w);
    }
    this.latencyAt = now;
  }
}
