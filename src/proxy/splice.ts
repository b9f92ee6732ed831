/**
 * Joins two sockets both ways (WebSocket/Upgrade tunnels and TCP mode), with
 * backpressure, half-close, an idle timeout, and one `onClose` when either
 * side is gone. A registry of open splices lets shutdown close them.
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

  /** Pipes client ⇄ upstream until either closes. */
  join(client: Socket, upstream: Socket, websocket: boolean, onClose?: () => void): void {
    const splice: Splice = { client, upstream, websocket, goingAway: false };
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
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.once('close', close);
      if (this.idleTimeoutMs > 0) {
        socket.setTimeout(this.idleTimeoutMs);
        socket.on('timeout', close);
      }
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Ends every open splice; WebSocket clients get a 1001 close frame first. */
  closeAll(): void {
    for (const splice of [...this.open]) {
      const { client, upstream, websocket } = splice;
      client.unpipe();
      upstream.unpipe();
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
