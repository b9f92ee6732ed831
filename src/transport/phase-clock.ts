/**
 * The deadlines of one HTTP/1.1 exchange on one timer (transport/engine-undici
 * extends it): connecting, then waiting for the head, then silence while a
 * body moves. Moving from phase to phase only moves `deadline`; the timer,
 * armed once, re-arms for what is left when it fires early for the current
 * phase. For a request answered in a millisecond that is one setTimeout and
 * one clearTimeout.
 */

/** What ran out: CONNECT_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS, or IDLE_TIMEOUT_MS of silence. */
export type Phase = 'connect' | 'headers' | 'idle';

export abstract class PhaseClock {
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  private timerAt = 0;
  /** The current phase's deadline, or 0 for none; silence counts from `active` instead. */
  private deadline = 0;
  /** The current phase's timeout when it measures silence (re-measured from the last activity), else 0. */
  private silenceMs = 0;
  private active = 0;
  private phase: Phase = 'connect';

  /** The current phase ran out. */
  protected abstract expired(phase: Phase): void;

  /** Enters a phase that must end within `ms`. */
  protected arm(ms: number, phase: Phase): void {
    const now = performance.now();
    this.deadline = now + ms;
    this.silenceMs = 0;
    this.phase = phase;
    // The armed timer fires in time for this phase, or earlier and re-arms: nothing to do.
    if (this.timer !== undefined && this.timerAt <= this.deadline) return;
    clearTimeout(this.timer);
    this.timerAt = this.deadline;
    this.timer = setTimeout(this.onTimer, ms);
  }

  /**
   * The request is out: the head is due within `headMs` (UPSTREAM_TIMEOUT_MS; 0 for none), and
   * silence before it for `idleMs` (IDLE_TIMEOUT_MS) ends the wait too, as on the node:http path.
   */
  protected armForHead(headMs: number, idleMs: number): void {
    if (idleMs > 0 && (headMs === 0 || idleMs < headMs)) this.arm(idleMs, 'idle');
    else if (headMs > 0) this.arm(headMs, 'headers');
    else this.disarm();
  }

  /** Silence: `ms` (IDLE_TIMEOUT_MS; 0 for none) from the last activity. */
  protected armSilence(ms: number): void {
    if (ms <= 0) return this.disarm();
    this.arm(ms, 'idle');
    this.silenceMs = ms;
    this.active = performance.now();
  }

  /** Bytes moved: silence counts from now. */
  protected touch(): void {
    if (this.silenceMs > 0) this.active = performance.now();
  }

  /** No deadline in this phase; a timer still armed finds none when it fires. */
  protected disarm(): void {
    this.deadline = 0;
    this.silenceMs = 0;
  }

  protected stopTimer(): void {
    this.disarm();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.deadline === 0) return;
    const deadline = this.silenceMs > 0 ? this.active + this.silenceMs : this.deadline;
    const left = deadline - performance.now();
    // Timers may fire up to a millisecond before performance.now() says they are due.
    if (left > 1) {
      this.timerAt = deadline;
      this.timer = setTimeout(this.onTimer, left);
      return;
    }
    this.expired(this.phase);
  };
}
