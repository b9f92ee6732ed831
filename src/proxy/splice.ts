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

/** A WebSocket close frame, server to client, status 1001 "going away". */
const WS_GOING_AWAY = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

export interface Splice {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly websocket: boolean;
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

  /** Relays client ⇄ upstream until either closes. */
  join(client: Socket, upstream: Socket, websocket: boolean, onClose?: () => void): void {
    const splice: Splice = { client, upstream, websocket, goingAway: false, stopped: false };
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
    client.on('error', close);
    client.on('close', close);
    upstream.on('error', close);
    upstream.on('close', close);
    if (this.idleTimeoutMs > 0) {
      client.setTimeout(this.idleTimeoutMs);
      client.on('timeout', close);
    }
    relay(client, upstream, splice);
    relay(upstream, client, splice);
  }

  /** Ends every open splice; WebSocket clients get a 1001 close frame first. */
  closeAll(): void {
    for (const splice of [...this.open]) {
      const { client, upstream, websocket } = splice;
      splice.stopped = true;
      if (websocket && client.writable) {
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

/** `from`'s bytes to `to`, `from` paused while `to` is over its buffer mark; `from`'s end ends `to` (half-close). */
function relay(from: Socket, to: Socket, splice: Splice): void {
  const resume = (): void => void from.resume();
  from.on('data', (chunk: Buffer) => {
    if (splice.stopped) return;
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
