/**
 * MODE=tcp: each client connection is joined to one backend connection.
 * Half-close is kept: a client that ends its side still gets the answer.
 * Backend choice, MAX_REQUESTS_PER_BACKEND and the retry budget are shared
 * with HTTP (proxy/choose), the connect with upgrades (transport/connect),
 * the outcome with every path (proxy/outcome).
 * A failed connect is retried on another backend (up to RETRIES); nothing is
 * read from the client until a backend accepted, so nothing is lost.
 */
import type net from 'node:net';
import type { PickContext } from '../balancer/picker.js';
import { ConnectFailedError } from '../errors.js';
import { errorStatus } from './error-response.js';
import { acquire, choose, mayRetry, type TunnelPathDeps } from './choose.js';
import type { Backend } from '../upstream/backend.js';
import { clientAddress } from './headers.js';
import { connectBackend } from '../transport/connect.js';
import { AcceptSockets, ACCEPT_SOCKETS } from './accept-sockets.js';

export type TcpDeps = TunnelPathDeps;

export function createTcpServer(d: TcpDeps): AcceptSockets {
  const server = { pauseOnConnect: true, noDelay: true, allowHalfOpen: true };
  return new AcceptSockets({ server, maxConnections: d.config.maxConnections, sockets: ACCEPT_SOCKETS }, (client) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    client.once('close', () => d.metrics.downstreamConnections.dec());
    client.on('error', () => client.destroy());
    // A connection still connecting to a backend is work the drain waits for (the splice then takes over).
    const end = d.inFlight.begin();
    client.once('close', end);
    void connectWithRetries(d, client, [], d.contextFor(clientAddress(client.remoteAddress))).finally(end);
  });
}

async function connectWithRetries(d: TcpDeps, client: net.Socket, tried: Backend[], ctx: PickContext): Promise<void> {
  for (;;) {
    if (client.destroyed) return;
    let backend: Backend;
    try {
      backend = choose(d, tried, ctx);
    } catch (err) {
      const kind = tried.length > 0 ? 'connect_failed' : errorStatus(err, d.logger).kind;
      d.metrics.proxyErrors.inc({ kind });
      d.logger.warn({ client: ctx.clientIp, attempts: tried.length, kind }, 'tcp connection closed: no backend could take it');
      return void client.destroy();
    }
    tried.push(backend);
    const release = acquire(backend);
    const connecting = connectBackend(backend, d.config.connectTimeoutMs, d.upstreamTls, { allowHalfOpen: true });
    client.once('close', connecting.cancel);
    try {
      const upstream = await connecting.socket;
      client.off('close', connecting.cancel);
      d.outcomes.connected(backend);
      d.splices.join(client, upstream, false, release);
      client.resume();
      return;
    } catch (err) {
      client.off('close', connecting.cancel);
      release();
      if (client.destroyed) return; // the client left: not the backend's fault
      d.outcomes.attemptFailed(backend, err as ConnectFailedError);
      if (!mayRetry(d, tried, Date.now())) {
        d.metrics.proxyErrors.inc({ kind: 'connect_failed' });
        return void client.destroy();
      }
      d.metrics.retries.inc({ reason: 'connect_failed' });
      ctx = { ...ctx, now: Date.now() };
    }
  }
}
