/**
 * The traffic port as several listening sockets that share one address
 * (SO_REUSEPORT), so that new clients keep being accepted while the event
 * loop is saturated.
 *
 * Why: since libuv 1.45 (libuv PR #3696; Node 20.3 and later) a listening
 * socket yields one accept() per poll of the event loop. Under load one
 * iteration handles hundreds of ready connections and takes tens of
 * milliseconds, so a single socket accepts only some tens of clients per
 * second and the rest wait in the kernel's queue until they time out. The
 * kernel spreads new connections over the sockets of a reuseport group, and
 * each socket yields its own accept per poll: N sockets accept N per
 * iteration. Every socket hands its connections to the one handler.
 *
 * Where the runtime cannot set SO_REUSEPORT (Node < 22.12, or not Linux,
 * where the option does not spread connections), the port is one socket.
 * MAX_CONNECTIONS is counted over the whole group, not per socket; a
 * connection past it is closed at once and counted in a warn line at most
 * every 10 s (proxy/refused-connections-log). A port
 * that is already taken still fails at start (a plain bind is tried first);
 * a process of the same user that binds the port with SO_REUSEPORT after
 * Outrigger started would share its new connections (docs/security.md).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { RefusedConnectionsLog } from './refused-connections-log.js';

/**
 * Sockets per port where reuseport works. The kernel hashes new connections
 * over them, so N sockets accept about N per loop iteration: with 1000
 * clients arriving while iterations take 50-100 ms, 64 still needed
 * 1.5-2 s to accept all on a quiet machine, 256 took 0.1 s in every round
 * (`npm run bench -- --accept`, docs/benchmarks.md). Each is one fd and a
 * few KiB.
 */
export const ACCEPT_SOCKETS = 256;

export interface AcceptSocketsOptions {
  readonly server: net.ServerOpts;
  /** Total cap over every socket of the group (MAX_CONNECTIONS); past it a new connection is closed at once. */
  readonly maxConnections: number;
  /** Sockets wanted; fewer where reuseport is unavailable (then 1). */
  readonly sockets: number;
  /** Where connections refused at the cap are reported: a rate-limited warn line (proxy/refused-connections-log). */
  readonly logger: Pick<Logger, 'warn'>;
}

/** SO_REUSEPORT through `listen({ reusePort })`: Node 22.12+ (23.1+ on the 23 line), on Linux only. */
export function reusePortAvailable(platform = process.platform, version = process.versions.node): boolean {
  if (platform !== 'linux') return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export class AcceptSockets {
  /** The first socket: its address is the port's; the others join it once it listens. */
  readonly primary: net.Server;
  private readonly extra: net.Server[] = [];
  private readonly count: number;
  private open = 0;
  private closed = false;
  private readonly refusals: RefusedConnectionsLog;

  constructor(private readonly o: AcceptSocketsOptions, private readonly onConnection: (socket: net.Socket) => void) {
    this.count = reusePortAvailable() ? Math.max(1, o.sockets) : 1;
    this.refusals = new RefusedConnectionsLog(o.logger, o.maxConnections);
    this.primary = this.createServer();
  }

  /** How many sockets listen (1 without reuseport). */
  get sockets(): number {
    return 1 + this.extra.length;
  }

  /** Binds every socket to host:port (port 0: the port the first one got); rejects if the first cannot bind. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    const reusePort = this.count > 1;
    // A port already in use must still fail with EADDRINUSE, even where its owner set reuseport too
    // (a second Outrigger of the same user would otherwise join the group and take part of the traffic).
    if (reusePort && port !== 0) await probeFree(host, port);
    const address = await bind(this.primary, { host, port, reusePort });
    for (let i = 1; i < this.count; i++) {
      const s = this.createServer();
      // A sibling that cannot join leaves the port working with fewer sockets: not fatal.
      try {
        await bind(s, { host: address.address, port: address.port, reusePort });
      } catch {
        s.close();
        break;
      }
      // close() came while this one was binding (a signal during startup): it must not stay open.
      if (this.closed) {
        s.close();
        break;
      }
      this.extra.push(s);
    }
    return address;
  }

  /** Stops accepting on every socket; open connections are left to their owners. */
  close(): void {
    this.closed = true;
    this.primary.close();
    for (const s of this.extra.splice(0)) s.close();
    this.refusals.close();
  }

  private createServer(): net.Server {
    const server = net.createServer(this.o.server, (socket) => {
      if (this.open >= this.o.maxConnections) {
        socket.destroy();
        return void this.refusals.refused();
      }
      this.open += 1;
      socket.once('close', () => { this.open -= 1; });
      this.onConnection(socket);
    });
    // Node's own check, per socket: a backstop behind the group's count.
    server.maxConnections = this.o.maxConnections;
    server.on('drop', () => this.refusals.refused());
    // A failed accept that libuv does not absorb itself (ENOBUFS, ENOMEM, EPERM; EMFILE mostly) is emitted
    // as 'error' on the listening server, which throws without a listener and would end the process. The socket
    // keeps listening; that one connection is lost.
    server.on('error', () => undefined);
    return server;
  }
}

/** Binds a plain socket (no reuseport) to host:port and closes it: rejects with EADDRINUSE if anything listens there. */
async function probeFree(host: string, port: number): Promise<void> {
  const probe = net.createServer();
  await bind(probe, { host, port });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function bind(server: net.Server, options: net.ListenOptions & { reusePort?: boolean }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
