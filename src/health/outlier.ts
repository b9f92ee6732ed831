/**
 * Passive outlier detection: OUTLIER_CONSECUTIVE_FAILURES connect errors or
 * 5xx answers in a row eject a backend for OUTLIER_EJECTION_MS, doubled on
 * each repeat ejection and capped at 10×, and never more than
 * OUTLIER_MAX_EJECTION_PERCENT of the backends at once.
 */
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';

const MAX_MULTIPLIER = 10;

export class OutlierDetector {
  private readonly lastEjected = new WeakMap<Backend, number>();

  constructor(
    private readonly set: BackendSet,
    private readonly config: Config['outlier'],
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  onSuccess(backend: Backend): void {
    backend.consecutiveFailures = 0;
    // A backend that behaved for a long while starts again from the base time.
    if (backend.ejections <= 0) return; // the common case, without a WeakMap lookup
    const last = this.lastEjected.get(backend);
    if (last !== undefined && this.now() - last > MAX_MULTIPLIER * 2 * this.config.ejectionMs) {
      backend.ejections = 0;
    }
  }

  onFailure(backend: Backend): void {
    backend.consecutiveFailures += 1;
    const threshold = this.config.consecutiveFailures;
    if (threshold === 0 || backend.consecutiveFailures < threshold) return;
    const now = this.now();
    if (backend.isEjected(now) || !this.mayEject(now)) return;
    const multiplier = Math.min(2 ** backend.ejections, MAX_MULTIPLIER);
    const durationMs = this.config.ejectionMs * multiplier;
    backend.consecutiveFailures = 0;
    this.lastEjected.set(backend, now);
    this.set.eject(backend, now + durationMs, { durationMs, consecutiveFailures: threshold });
    this.metrics.outlierEjections.inc({ backend: backend.id });
  }

  private mayEject(now: number): boolean {
    const all = this.set.all();
    const ejected = all.filter((b) => b.isEjected(now)).length;
    return ((ejected + 1) * 100) / all.length <= this.config.maxEjectionPercent;
  }
}
