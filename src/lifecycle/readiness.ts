/**
 * Readiness (/readyz): a one-way latch that opens once the listeners are
 * bound and the first probe round is done, closes for good when draining
 * starts, and in between also needs READY_MIN_HEALTHY_BACKENDS eligible
 * backends. Liveness never depends on any of this.
 */
import type { BackendSet } from '../upstream/backend-set.js';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export class Readiness {
  private listening = false;
  private probed = false;
  private drainingSince: number | undefined;

  constructor(
    private readonly set: BackendSet,
    private readonly minHealthy: number,
  ) {}

  markListening(): void {
    this.listening = true;
  }

  markFirstProbeRoundDone(): void {
    this.probed = true;
  }

  markDraining(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  report(now = Date.now()): ReadinessReport {
    const reasons: string[] = [];
    if (this.drainingSince !== undefined) reasons.push('draining: shutdown in progress');
    if (!this.listening) reasons.push('starting: listeners not bound yet');
    if (!this.probed) reasons.push('starting: first health-check round not finished');
    if (this.minHealthy > 0) {
      const healthy = this.set.eligible(now).length;
      if (healthy < this.minHealthy) reasons.push(`${healthy} eligible backends, READY_MIN_HEALTHY_BACKENDS needs ${this.minHealthy}`);
    }
    return { ready: reasons.length === 0, reasons };
  }
}
