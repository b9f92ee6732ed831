/**
 * One multiplexed HTTP/2 session to a backend and the streams it carries
 * (transport/h2-sessions keeps them per backend): its stream count, and its
 * keepalive. While open it is probed with PING every UPSTREAM_KEEPALIVE_MS; a
 * PING unanswered within CONNECT_TIMEOUT_MS ends an idle session, and drains
 * one with streams in flight (no new stream), which is ended only once the
 * PING has waited PING_DEAD_MS. UPSTREAM_KEEPALIVE_MS without a stream ends it.
 */
import { AsyncResource } from 'node:async_hooks';
import type { ClientHttp2Session, ClientHttp2Stream, ClientSessionRequestOptions, OutgoingHttpHeaders } from 'node:http2';
import { leanBind } from './lean-bind.js';
import { quietStreamListeners } from './h2-release.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

export interface H2SessionOptions {
  readonly keepaliveMs: number;
  readonly connectTimeoutMs: number;
  readonly upstreamTls: UpstreamTls;
  /** A PING unanswered this long ends a session with streams in flight (default PING_DEAD_MS). */
  readonly pingDeadMs?: number;
}

/** gRPC's default keepalive timeout: what a session with calls in flight gets before it is taken for dead. */
export const PING_DEAD_MS = 20_000;

/** One session and the streams it carries. */
export class H2Session {
  active = 0;
  ready = false;
  /** GOAWAY received, closing or broken: no new stream. */
  draining = false;
  /** The last-stream-id of the backend's GOAWAY: streams above it were never processed. */
  lastStreamId = Infinity;
  private idleSince = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Draining because a PING went unanswered (not for a GOAWAY): undone if the answer comes. */
  private drainedByPing = false;

  constructor(
    readonly session: ClientHttp2Session,
    private readonly o: H2SessionOptions,
    /** Room may have changed (a stream closed, or the session takes no new ones): waiting streams are placed again. */
    private readonly onRoomChanged: () => void,
  ) {}

  get hasRoom(): boolean {
    if (!this.ready || this.draining || this.session.closed || this.session.destroyed) return false;
    return this.active < (this.session.remoteSettings.maxConcurrentStreams ?? Infinity);
  }

  /** Opens a stream on this session (may throw as `session.request` does); counted until it closes. */
  open(headers: OutgoingHttpHeaders, options: ClientSessionRequestOptions): ClientHttp2Stream {
    // Node binds one callback per stream with AsyncResource.prototype.bind; for the length of this
    // synchronous call it gets the same binding without the deprecated accessors (see leanBind).
    const nodeBind = AsyncResource.prototype.bind;
    AsyncResource.prototype.bind = leanBind as typeof nodeBind;
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headers, options);
    } finally {
      AsyncResource.prototype.bind = nodeBind;
    }
    quietStreamListeners(stream);
    this.active += 1;
    stream.on('close', () => { // emitted once: 'on' spares the wrapper 'once' makes per stream
      this.active -= 1;
      if (this.active === 0) this.idleSince = performance.now();
      // Drained for a late PING: kept until the answer (taking streams again) or the dead time (ended).
      if (this.draining && this.active === 0 && !this.drainedByPing) this.session.close();
      this.onRoomChanged();
    });
    return stream;
  }

  /** Starts the keepalive clock once the session is usable. */
  startKeepalive(): void {
    if (this.o.keepaliveMs > 0) this.arm(this.o.keepaliveMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.pingTimer);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  /** Closes a session idle for UPSTREAM_KEEPALIVE_MS, or checks with a PING that its peer still answers. */
  private tick(): void {
    if (this.session.destroyed) return;
    const idleFor = this.active === 0 ? performance.now() - this.idleSince : 0;
    if (this.active === 0 && idleFor >= this.o.keepaliveMs - 1) {
      this.draining = true;
      this.session.close();
      return;
    }
    if (this.pingTimer === undefined) {
      const sent = this.session.ping(() => {
        clearTimeout(this.pingTimer);
        this.pingTimer = undefined;
        // Late, but answered: a session drained only for that takes streams again.
        if (this.drainedByPing && this.lastStreamId === Infinity && !this.session.closed && !this.session.destroyed) {
          this.drainedByPing = false;
          this.draining = false;
          this.onRoomChanged();
        }
      });
      if (sent && this.o.connectTimeoutMs > 0) {
        this.pingTimer = setTimeout(() => this.pingUnanswered(), this.o.connectTimeoutMs);
        this.pingTimer.unref();
      }
    }
    this.arm(this.active === 0 ? this.o.keepaliveMs - idleFor : this.o.keepaliveMs);
  }

  /**
   * No PING answer within CONNECT_TIMEOUT_MS. An idle session is ended. One
   * with streams in flight takes no new stream (those go to a fresh session)
   * and closes after its last, but is ended only once the PING has waited
   * PING_DEAD_MS: a backend busy for a few seconds (a long GC, a CPU-bound
   * handler) would otherwise lose every call on it.
   */
  private pingUnanswered(): void {
    this.pingTimer = undefined;
    if (this.session.destroyed) return;
    const dead = () => this.session.destroy(new Error('PING unanswered'));
    if (this.active === 0) return dead();
    this.draining = true;
    this.drainedByPing = true;
    this.onRoomChanged();
    this.pingTimer = setTimeout(dead, Math.max(0, (this.o.pingDeadMs ?? PING_DEAD_MS) - this.o.connectTimeoutMs));
    this.pingTimer.unref();
  }
}
