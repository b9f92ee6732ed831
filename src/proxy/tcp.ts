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
import type { ConnectFailedError } from '../errors.js';
import { errorStatus } from './error-response.js';
import { acquire, choose, mayRetry, type TunnelPathDeps } from './choose.js';
import type { Backend } from '../upstream/backend.js';
import { clientAddress } from './headers.js';
import { openBackend } from '../transport/connect.js';
import { AcceptSockets, ACCEPT_SOCKETS } from './accept-sockets.js';

export type TcpDeps = TunnelPathDeps;

/** One client connection until its splice takes over (or it is closed). */
interface Pending {
  readonly client: net.Socket;
  readonly tried: Backend[];
  ctx: PickContext;
  /** Cancels the connect under way; undefined between attempts. */
  cancel: (() => void) | undefined;
  /** Ends the in-flight unit the drain waits for while connecting (the splice then counts its own). */
  readonly end: () => void;
}

export function createTcpServer(d: TcpDeps): AcceptSockets {
  const server = { pauseOnConnect: true, noDelay: true, allowHalfOpen: true };
  // The client's address (a getpeername) is read only where something uses it: `hash` picks by it.
  const byAddress = d.config.algorithm === 'hash';
  return new AcceptSockets({ server, maxConnections: d.config.maxConnections, sockets: ACCEPT_SOCKETS, logger: d.logger }, (client) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    // A connection still connecting to a backend is work the drain waits for (the splice then takes over).
    const p: Pending = {
      client, tried: [], ctx: d.contextFor(byAddress ? clientAddress(client.remoteAddress) : ''), cancel: undefined, end: d.inFlight.begin(),
    };
    client.once('close', () => {
      d.metrics.downstreamConnections.dec();
      p.cancel?.();
      p.end();
    });
    client.on('error', () => client.destroy());
    attempt(d, p);
  });
}

/** Picks a backend and connects; a failed connect is retried on another (up to RETRIES, within the budget). */
function attempt(d: TcpDeps, p: Pending): void {
  const { client, tried } = p;
  if (client.destroyed) return p.end();
  let backend: Backend;
  try {
    backend = choose(d, tried, p.ctx);
  } catch (err) {
    const kind = tried.length > 0 ? 'connect_failed' : errorStatus(err, d.logger).kind;
    d.metrics.proxyErrors.inc({ kind });
    d.logger.warn({ client: clientAddress(client.remoteAddress), attempts: tried.length, kind }, 'tcp connection closed: no backend could take it');
    return void client.destroy();
  }
  tried.push(backend);
  const release = acquire(backend);
  p.cancel = openBackend(backend, d.config.connectTimeoutMs, d.upstreamTls, { allowHalfOpen: true }, (err, upstream) => {
    p.cancel = undefined;
    if (err === undefined) return connected(d, p, backend, upstream, release);
    release();
    if (client.destroyed) return p.end(); // the client left: not the backend's fault
    failed(d, p, backend, err);
  });
}

function connected(d: TcpDeps, p: Pending, backend: Backend, upstream: net.Socket, release: () => void): void {
  d.outcomes.connected(backend);
  d.splices.join(p.client, upstream, false, release);
  p.end();
}

function failed(d: TcpDeps, p: Pending, backend: Backend, err: ConnectFailedError): void {
  d.outcomes.attemptFailed(backend, err);
  if (!mayRetry(d, p.tried, Date.now())) {
    d.metrics.proxyErrors.inc({ kind: 'connect_failed' });
    return void p.client.destroy();
  }
  d.metrics.retries.inc({ reason: 'connect_failed' });
  p.ctx = { ...p.ctx, now: Date.now() };
  attempt(d, p);
}
