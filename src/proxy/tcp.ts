/**
 * MODE=tcp: each client connection is joined to one backend connection.
 * Half-close is kept: a client that ends its side still gets the answer.
 * Backend choice, MAX_REQUESTS_PER_BACKEND and the retry budget are shared
 * with HTTP (proxy/choose).
 * A failed connect is retried on another backend (up to RETRIES); nothing is
 * read from the client until a backend accepted, so nothing is lost.
 */
import net from 'node:net';
import type { PickContext } from '../balancer/picker.js';
import { OverloadedError } from '../errors.js';
import { acquire, choose, mayRetry, type TunnelPathDeps } from './choose.js';
import type { Backend } from '../upstream/backend.js';
import { clientAddress } from './headers.js';

export type TcpDeps = TunnelPathDeps;

export function createTcpServer(d: TcpDeps): net.Server {
  const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (client) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    client.once('close', () => d.metrics.downstreamConnections.dec());
    client.on('error', () => client.destroy());
    const clientIp = clientAddress(client.remoteAddress);
    // A connection still connecting to a backend is work the drain waits for (the splice then takes over).
    const end = d.inFlight.begin();
    client.once('close', end);
    connectWithRetries(d, client, [], { now: Date.now(), rng: d.rng, slowStartMs: d.config.slowStartMs, clientIp }, end);
  });
  server.maxConnections = d.config.maxConnections;
  return server;
}

function connectWithRetries(d: TcpDeps, client: net.Socket, tried: Backend[], ctx: PickContext, end: () => void): void {
  if (client.destroyed) return end();
  let backend: Backend;
  try {
    backend = choose(d, tried, ctx);
  } catch (err) {
    const kind = tried.length > 0 ? 'connect_failed' : err instanceof OverloadedError ? 'overloaded' : 'no_healthy_backend';
    d.metrics.proxyErrors.inc({ kind });
    d.logger.warn({ client: ctx.clientIp, attempts: tried.length, kind }, 'tcp connection closed: no backend could take it');
    client.destroy();
    return;
  }
  tried.push(backend);
  const release = acquire(backend);
  const upstream = net.connect({ host: backend.host, port: backend.port, noDelay: true, allowHalfOpen: true });
  const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), d.config.connectTimeoutMs);
  const onClientGone = () => upstream.destroy();
  client.once('close', onClientGone);
  upstream.once('connect', () => {
    clearTimeout(timer);
    client.off('close', onClientGone);
    upstream.removeAllListeners('error');
    d.outlier.onSuccess(backend);
    d.splices.join(client, upstream, false, release);
    end();
    client.resume();
  });
  upstream.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    client.off('close', onClientGone);
    release();
    upstream.destroy();
    if (client.destroyed) return;
    backend.failures += 1;
    d.outlier.onFailure(backend);
    d.metrics.upstreamErrors.inc({ backend: backend.id, kind: err.code === 'ETIMEDOUT' ? 'connect_timeout' : 'connect_refused' });
    if (mayRetry(d, tried, Date.now())) {
      d.metrics.retries.inc({ reason: 'connect_failed' });
      connectWithRetries(d, client, tried, { ...ctx, now: Date.now() }, end);
    } else {
      d.metrics.proxyErrors.inc({ kind: 'connect_failed' });
      client.destroy();
    }
  });
}
