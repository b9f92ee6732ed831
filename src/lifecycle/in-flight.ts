/**
 * Counts work in flight (requests, tunnels) so that shutdown can wait for it
 * to finish.
 */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  get active(): number {
    return this.count;
  }

  /** Marks one unit of work started; the returned function ends it (once). */
  begin(): () => void {
    this.count += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count -= 1;
      if (this.count === 0) this.wake();
    };
  }

  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
