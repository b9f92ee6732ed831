/**
 * Timeouts for the undici exchanges without a timer per request: each
 * exchange carries one deadline, and one sweep checks the exchanges that
 * have one. A deadline fires at or after its time, never before, and at most
 * one sweep period late (a tenth of the shortest timeout, 10–100 ms).
 * Arming, moving and clearing a deadline are a Set operation or a field
 * write: cheaper than a setTimeout/clearTimeout pair per request, which
 * costs the proxy about 1 % of its CPU under load.
 */

export interface Expiring {
  /** performance.now() value at or after which `expire()` is called. */
  deadline: number;
  expire(): void;
}

const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 100;

export class Deadlines {
  private readonly watched = new Set<Expiring>();
  private timer: NodeJS.Timeout | undefined;
  readonly sweepMs: number;

  /** `shortestMs`: the shortest timeout that will be watched; `now` must be the clock the deadlines use. */
  constructor(shortestMs: number, private readonly now: () => number = () => performance.now()) {
    this.sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(shortestMs / 10) || MAX_SWEEP_MS));
  }

  /** Watches `e` until `clear(e)`; set `e.deadline` first (it may be moved later by writing the field). */
  watch(e: Expiring): void {
    this.watched.add(e);
    if (this.timer === undefined) {
      this.timer = setInterval(this.sweep, this.sweepMs);
      this.timer.unref(); // nothing to wait for when nothing else runs
    }
  }

  clear(e: Expiring): void {
    this.watched.delete(e);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private readonly sweep = (): void => {
    if (this.watched.size === 0) {
      clearInterval(this.timer); // idle: the next watch() starts it again
      this.timer = undefined;
      return;
    }
    const now = this.now();
    for (const e of this.watched) {
      if (now < e.deadline) continue;
      this.watched.delete(e);
      e.expire();
    }
  };
}
