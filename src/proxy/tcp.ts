/**
 * MODE=tcp: each client connection is joined to one backend connection.
 * Half-close is kept: a client that ends its side still gets the answer.
 * A failed connect is retried on another backend (up to RETRIES); nothing is
 * read from the client until a backend accepted, so nothing is lost.
 */
import net from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Picker } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import type { OutlierDetector } from '../health/outlier.js';
import type { SpliceRegistry } from './splice.js';
import { clientAddress } from './headers.js';

export interface TcpDeps {
  readonly config: Config;
  readonly set: BackendSet;
  readonly picker: Picker;
  readonly outlier: OutlierDetector;
  readonly splices: SpliceRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly rng: () => number;
}

export function createTcpServer(d: TcpDeps): net.Server {
  const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (client) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    client.once('close', () => d.metrics.downstreamConnections.dec());
    client.on('error', () => client.destroy());
    connectWithRetries(d, client, [], clientAddress(client.remoteAddress));
  });
  server.maxConnections = d.config.maxConnections;
  return server;
}

function connectWithRetries(d: TcpDeps, client: net.Socket, tried: Backend[], clientIp: string): void {
  if (client.destroyed) return;
  const now = Date.now();
  const candidates = d.set.eligible(now).filter((b) => !tried.includes(b));
  const backend = d.picker.pick(candidates, { now, rng: d.rng, slowStartMs: d.config.slowStartMs, clientIp });
  if (backend === undefined) {
    d.metrics.proxyErrors.inc({ kind: tried.length === 0 ? 'no_healthy_backend' : 'connect_failed' });
    d.logger.warn({ client: clientIp, attempts: tried.length }, 'tcp connection refused: no backend could take it');
    client.destroy();
    return;
  }
  tried.push(backend);
  backend.inFlight += 1;
  backend.requests += 1;
  d.metrics.upstreamInFlight.inc({ backend: backend.id });
  const release = () => {
    backend.inFlight -= 1;
    d.metrics.upstreamInFlight.dec({ backend: backend.id });
  };
  const upstream = net.connect({ host: backend.host, port: backend.port, noDelay: true, allowHalfOpen: true });
  const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), d.config.connectTimeoutMs);
  upstream.once('connect', () => {
    clearTimeout(timer);
    upstream.removeAllListeners('error');
    d.outlier.onSuccess(backend);
    d.splices.join(client, upstream, false, release);
    client.resume();
  });
  upstream.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    release();
    upstream.destroy();
    backend.failures += 1;
    d.outlier.onFailure(backend);
    d.metrics.upstreamErrors.inc({ backend: backend.id, kind: err.code === 'ETIMEDOUT' ? 'connect_timeout' : 'connect_refused' });
    if (tried.length <= d.config.retries) {
      d.metrics.retries.inc({ reason: 'connect_failed' });
      connectWithRetries(d, client, tried, clientIp);
    } else {
      d.metrics.proxyErrors.inc({ kind: 'connect_failed' });
      client.destroy();
    }
  });
}
