/**
 * The shutdown sequence (SPEC §5), in order:
 *   1. readiness 503 at once, outrigger_draining = 1;
 *   2. SHUTDOWN_DELAY_MS of normal service, answers carry Connection: close;
 *   3. stop listening, close idle keep-alive connections;
 *   4. wait up to DRAIN_TIMEOUT_MS for in-flight requests and tunnels;
 *   5. close what remains (WebSockets get a 1001 close frame), then `done`.
 * A second signal skips the waits.
 */
import type { Logger } from '../log.js';

export interface ShutdownSteps {
  readonly delayMs: number;
  readonly drainTimeoutMs: number;
  /** Step 1. */
  markDraining(): void;
  /** Step 3: stop accepting, close idle connections. */
  stopListening(): void;
  /** Resolves when nothing is in flight and every HTTP/2 session has closed. */
  idle(): Promise<void>;
  /** How much is still in flight, for the logs. */
  inFlight(): number;
  /** HTTP/2 sessions still open (closing once their last GOAWAY is out), for the logs. */
  openSessions(): number;
  /** Step 5: cut what is left; resolves once the cut connections have closed (their requests logged). */
  closeRemaining(): Promise<void>;
  /** Close admin, probes and pools; flush logs. */
  finish(): Promise<void>;
}

/** The most step 5 waits for the connections it cut to report closed. */
const CLOSE_WAIT_MS = 1000;

export class Shutdown {
  private started = false;
  private hurry: (() => void) | undefined;
  private hurried = false;

  constructor(
    private readonly steps: ShutdownSteps,
    private readonly logger: Logger,
  ) {}

  /** Runs the sequence once; a second call cuts the waits short. Resolves when done. */
  async begin(signal: string): Promise<boolean> {
    if (this.started) {
      this.logger.warn({ signal }, 'shutdown: second signal, skipping the waits');
      this.hurried = true;
      this.hurry?.();
      return false;
    }
    this.started = true;
    const { steps, logger } = this;
    steps.markDraining();
    logger.info({ signal, delayMs: steps.delayMs, drainTimeoutMs: steps.drainTimeoutMs }, 'shutdown: draining, readiness now 503');
    await this.wait(sleep(steps.delayMs));
    steps.stopListening();
    logger.info({ inFlight: steps.inFlight(), openSessions: steps.openSessions() }, 'shutdown: stopped listening, waiting for in-flight work');
    const drained = await this.wait(Promise.race([steps.idle().then(() => true), sleep(steps.drainTimeoutMs).then(() => false)]));
    if (drained !== true) logger.warn({ inFlight: steps.inFlight(), openSessions: steps.openSessions() }, 'shutdown: closing what is still in flight');
    // Bounded: a destroyed socket closes within a turn or two; a second signal does not wait at all.
    await this.wait(Promise.race([steps.closeRemaining(), sleep(CLOSE_WAIT_MS)]));
    logger.info('shutdown: complete');
    await steps.finish();
    return true;
  }

  /** Waits for `p`, unless a second signal arrives first (then resolves undefined). */
  private wait<T>(p: Promise<T>): Promise<T | undefined> {
    if (this.hurried) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.hurry = () => resolve(undefined);
      p.then(resolve, () => resolve(undefined));
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
