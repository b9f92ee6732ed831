/**
 * MAX_CONNECTION_AGE_MS: client connections older than this are closed
 * gracefully, so that long-lived clients (gRPC channels above all) reach new
 * replicas after a scale-up. HTTP/1.1: `Connection: close` on the next
 * answer. HTTP/2: a GOAWAY, and the session closes once its streams finish.
 * 0 = never (no state is kept then).
 */
import type { Socket } from 'node:net';

export class ConnectionAge {
  private readonly born = new WeakMap<Socket, number>();

  constructor(readonly maxAgeMs: number) {}

  accepted(socket: Socket): void {
    if (this.maxAgeMs > 0) this.born.set(socket, Date.now());
  }

  /** True when `socket` is past the maximum age. */
  expired(socket: Socket | null | undefined): boolean {
    if (this.maxAgeMs === 0 || socket == null) return false;
    const born = this.born.get(socket);
    return born !== undefined && Date.now() - born >= this.maxAgeMs;
  }
}
