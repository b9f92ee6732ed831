/**
 * CLIENT_HEADERS_TIMEOUT_MS, kept by Outrigger itself rather than by Node's
 * connection-checking list, which stops expiring connections in some states
 * (docs/security.md has the root cause). A connection must complete each
 * request head within the timeout, counted from accept for the first and
 * from the first byte of every later one; between requests, an idle
 * keep-alive connection is governed by CLIENT_KEEPALIVE_TIMEOUT_MS.
 *
 * One coarse sweep serves every connection: per request the data plane only
 * writes two fields (no timer, no clock read). A head's first byte is seen
 * by the sweep through `socket.bytesRead`, which counts bytes even while
 * Node's parser consumes the socket natively. The deadline therefore holds
 * to within one sweep period (a quarter of the timeout, at most 1 s).
 */
import type { Socket } from 'node:net';

const MAX_SWEEP_MS = 1000;
const MIN_SWEEP_MS = 25;

/** Where a connection stands: waiting for a head, serving requests, or idle between them. */
export interface HeadClock {
  phase: 'head' | 'busy' | 'idle';
  /** When the phase began (ms since the epoch); for an idle connection, when its last answer ended. */
  since: number;
  /** socket.bytesRead when the phase began: more since then means bytes of a head arrived. */
  bytes: number;
  /** Handed to HTTP/2 (the preface or ALPN `h2`): on expiry closed without an HTTP/1.1 408. */
  http2?: true;
}

export interface HeadDeadlineOptions {
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Part of a head arrived, not all of it, in time: answer 408 and close. */
  readonly onIncompleteHead: (socket: Socket) => void;
  /** Nothing arrived in time (a silent new connection, an idle keep-alive one): close without an answer. */
  readonly onSilent: (socket: Socket) => void;
}

export class HeadDeadlines {
  private readonly clocks = new Map<Socket, HeadClock>();
  private readonly sweepMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** The time of the last sweep: what the data plane stamps phases with, without reading the clock. */
  private now = Date.now();

  constructor(private readonly o: HeadDeadlineOptions) {
    this.sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(o.headersTimeoutMs / 4)));
  }

  /** A new connection: its first head (or HTTP/2 preface) is due CLIENT_HEADERS_TIMEOUT_MS from now. Idempotent. */
  watch(socket: Socket): HeadClock {
    const known = this.clocks.get(socket);
    if (known !== undefined) return known;
    const clock: HeadClock = { phase: 'head', since: Date.now(), bytes: socket.bytesRead };
    this.clocks.set(socket, clock);
    if (this.timer === undefined) {
      this.now = clock.since;
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
      this.timer.unref();
    }
    return clock;
  }

  /**
   * The socket now speaks HTTP/2: its preface and SETTINGS are still due by the same deadline
   * (proxy/h2-server forgets the clock when they arrive), but an expiry only closes it, since
   * an HTTP/1.1 answer would be garbage on an HTTP/2 connection.
   */
  handedToHttp2(socket: Socket): void {
    this.watch(socket).http2 = true;
  }

  /** A complete head arrived: no deadline while its request is served. */
  static busy(clock: HeadClock): void {
    clock.phase = 'busy';
  }

  /** The last answer ended and the connection stays open: keep-alive rules until the next head begins. */
  idle(clock: HeadClock, socket: Socket): void {
    clock.phase = 'idle';
    clock.since = this.now;
    clock.bytes = socket.bytesRead;
  }

  /** The socket left HTTP/1.1 parsing (closed, upgraded, handed to another protocol). */
  forget(socket: Socket): void {
    this.clocks.delete(socket);
    if (this.clocks.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clocks.clear();
  }

  private sweep(): void {
    const now = Date.now();
    this.now = now;
    const { headersTimeoutMs, keepAliveTimeoutMs } = this.o;
    for (const [socket, clock] of this.clocks) {
      if (clock.phase === 'busy') continue;
      if (clock.phase === 'idle') {
        if (socket.bytesRead !== clock.bytes) {
          // A later head began since the last sweep: its time counts from now.
          clock.phase = 'head';
          clock.since = now;
        } else if (now - clock.since >= keepAliveTimeoutMs) {
          this.expire(socket, false);
        }
        continue;
      }
      if (now - clock.since >= headersTimeoutMs) this.expire(socket, clock.http2 !== true && socket.bytesRead !== clock.bytes);
    }
  }

  private expire(socket: Socket, sentSomething: boolean): void {
    this.forget(socket);
    if (sentSomething) this.o.onIncompleteHead(socket);
    else this.o.onSilent(socket);
  }
}
