/**
 * Counts work in flight (requests, tunnels) so that shutdown can wait for it
 * to finish, and work ever started, so that the idle step can tell a quiet
 * period from a busy one.
 */
export class InFlight {
  private count = 0;
  private begun = 0;
  private waiters: Array<() => void> = [];

  get active(): number {
    return this.count;
  }

  /** Units of work begun since start (never decreases). */
  get started(): number {
    return this.begun;
  }

  /** Marks one unit of work started; the returned function ends it (once). */
  begin(): () => void {
    this.count += 1;
    this.begun += 1;
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

  /**
   * Wakes the waiters once the synchronous work that ended the last unit is
   * over, if nothing began meanwhile: a hand-over that ends one unit and
   * begins the next is never seen as idle.
   */
  private wake(): void {
    if (this.waiters.length === 0) return; // no drain is waiting (the common case): nothing to schedule
    queueMicrotask(() => {
      if (this.count !== 0) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }
}
