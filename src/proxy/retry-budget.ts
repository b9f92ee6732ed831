/**
 * Retry budget: over a sliding 10 s window, retries may add at most
 * RETRY_BUDGET_PERCENT on top of requests, with a floor of 10 retries/s so
 * that light traffic can still retry.
 */
const WINDOW_SECONDS = 10;
export const MIN_RETRIES_PER_SECOND = 10;

export class RetryBudget {
  private readonly requests = new Array<number>(WINDOW_SECONDS).fill(0);
  private readonly retries = new Array<number>(WINDOW_SECONDS).fill(0);
  private second = 0;

  constructor(
    private readonly percent: number,
    private readonly now: () => number = Date.now,
  ) {}

  onRequest(): void {
    this.requests[this.slot()]! += 1;
  }

  /** Spends one retry if the budget allows it. */
  tryRetry(): boolean {
    const { retries, allowed } = this.usage();
    if (retries + 1 > allowed) return false;
    this.retries[this.slot()]! += 1;
    return true;
  }

  /** Retries spent and allowed over the window now (read by the admin dashboard). */
  usage(): { retries: number; allowed: number } {
    this.slot(); // rotates out the seconds that left the window
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    return { retries, allowed: Math.max(MIN_RETRIES_PER_SECOND * WINDOW_SECONDS, (requests * this.percent) / 100) };
  }

  private slot(): number {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      const gap = Math.min(second - this.second, WINDOW_SECONDS);
      for (let i = 1; i <= gap; i++) {
        const s = (this.second + i) % WINDOW_SECONDS;
        this.requests[s] = 0;
        this.retries[s] = 0;
      }
      this.second = second;
    }
    return second % WINDOW_SECONDS;
  }
}
