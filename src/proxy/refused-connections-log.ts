/**
 * The warn line for connections refused at MAX_CONNECTIONS: the first
 * refusal after a quiet spell is logged at once; refusals after it are
 * counted and logged as one line at the end of each interval in which there
 * were any, with the count since the previous line. At most one line per
 * interval (plus one at close for refusals not yet reported), however many
 * clients are turned away.
 */
import type { Logger } from '../log.js';

export const REFUSED_CONNECTIONS_LOG_INTERVAL_MS = 10_000;

export class RefusedConnectionsLog {
  /** Refusals since the last line. */
  private pending = 0;
  /** Set while an interval runs after a line: refusals wait for its end. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly maxConnections: number,
    private readonly intervalMs = REFUSED_CONNECTIONS_LOG_INTERVAL_MS,
  ) {}

  /** One connection refused. */
  refused(): void {
    this.pending += 1;
    if (this.timer === undefined) this.flush();
  }

  /** Stops the interval; refusals not yet reported get their line now. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending > 0) this.write();
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    if (this.pending === 0) return; // a quiet interval: the next refusal is logged at once
    this.write();
    this.timer = setTimeout(this.flush, this.intervalMs);
    this.timer.unref();
  };

  private write(): void {
    this.logger.warn({ refused: this.pending, maxConnections: this.maxConnections, intervalMs: this.intervalMs },
      'connections refused: MAX_CONNECTIONS reached');
    this.pending = 0;
  }
}
