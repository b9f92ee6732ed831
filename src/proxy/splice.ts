/**
 * Joins two sockets both ways (WebSocket/Upgrade tunnels and TCP mode), with
 * backpressure, half-close, an idle timeout, and one `onClose` when either
 * side is gone. A registry of open splices lets shutdown close them.
 *
 * The relay is a 'data' listener writing to the other side (paused while
 * that side's buffer is full) and an 'end' listener ending it: what pipe()
 * does for two sockets, without its dozen listeners per direction to add
 * and remove per tunnel. The idle timer is the client's alone: every byte
 * either way is either read from the client or written to it, and Node
 * restarts a socket's timer on both, so one timer sees all traffic.
 */
import type { Socket } from 'node:net';
import type { Metrics } from '../metrics.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import { FrameBoundary } from './ws-frame-boundary.js';

/** A WebSocket close frame, server to client, status 1001 "going away". */
const WS_GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

export interface Splice {
  readonly client: Socket;
  readonly upstream: Socket;
  /** A WebSocket tunnel's backend→client frame boundaries: the 1001 goes only between frames. */
  readonly frames: FrameBoundary | undefined;
  /** Set by closeAll: the client is being sent a close frame; let it flush. */
  goingAway: boolean;
  /** Set by closeAll: nothing more is relayed. */
  stopped: boolean;
}

export class SpliceRegistry {
  private readonly open = new Set<Splice>();

  constructor(
    private readonly metrics: Metrics,
    private readonly inFlight: InFlight,
    private readonly idleTimeoutMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Relays client ⇄ upstream until either closes. `head`: tunnel bytes the
   * backend sent with its 101, written to the client first.
   */
  join(client: Socket, upstream: Socket, websocket: boolean, onClose?: () => void, head?: Buffer): void {
    const frames = websocket ? new FrameBoundary() : undefined;
    const splice: Splice = { client, upstream, frames, goingAway: false, stopped: false };
    this.open.add(splice);
    this.metrics.tunnels.inc();
    const end = this.inFlight.begin();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open.delete(splice);
      this.metrics.tunnels.dec();
      if (!splice.goingAway) client.destroy(); // else destroySoon() is already under way
      upstream.destroy();
      end();
      onClose?.();
    };
    /**
     * One side closed. When the other was ended after it (a half-close passed on), what is still
     * queued to it goes out first: destroying it now would drop those bytes. A reset, or a close
     * without an end, cuts both at once.
     */
    const closedSide = (other: Socket) => (): void => {
      if (closed || !other.writableEnded || other.destroyed || other.writableFinished) return close();
      other.once('close', close);
      // A peer that no longer reads is not waited for longer than a silent tunnel is.
      if (this.idleTimeoutMs > 0) other.setTimeout(this.idleTimeoutMs, close);
      other.destroySoon();
    };
    client.on('error', close);
    client.on('close', closedSide(upstream));
    upstream.on('error', close);
    upstream.on('close', closedSide(client));
    if (this.idleTimeoutMs > 0) {
      client.setTimeout(this.idleTimeoutMs);
      client.on('timeout', close);
    }
    if (head !== undefined && head.length > 0) {
      frames?.feed(head);
      client.write(head);
    }
    relay(client, upstream, splice, undefined);
    relay(upstream, client, splice, frames);
  }

  /**
   * Ends every open splice. A WebSocket client gets a 1001 close frame first
   * if what it was sent ends between frames; inside a frame (a backend that
   * stalled mid-message) a close frame would be read as payload and break
   * the stream, so the client is closed without one (it sees 1006).
   */
  closeAll(): void {
    for (const splice of [...this.open]) {
      const { client, upstream, frames } = splice;
      splice.stopped = true;
      if (frames?.atBoundary === true && client.writable) {
        splice.goingAway = true;
        client.write(WS_GOING_AWAY);
        client.destroySoon(); // ends and destroys once the frame is flushed
      } else {
        client.destroy();
      }
      upstream.destroy();
    }
  }
}

/**
 * `from`'s bytes to `to`, `from` paused while `to` is over its buffer mark;
 * `from`'s end ends `to` (half-close). `frames` follows the bytes written.
 */
function relay(from: Socket, to: Socket, splice: Splice, frames: FrameBoundary | undefined): void {
  const resume = (): void => void from.resume();
  from.on('data', (chunk: Buffer) => {
    if (splice.stopped) return;
    frames?.feed(chunk);
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', resume);
    }
  });
  from.on('end', () => {
    if (!splice.stopped) to.end();
  });
  if (from.readableFlowing !== true) from.resume(); // a socket paused so far (pauseOnConnect) starts here, as pipe() would
}
