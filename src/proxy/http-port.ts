/**
 * MODE=http: the traffic port assembled. The front door accepts and sorts
 * connections (after the TLS handshake, with TLS_CERT_FILE); the HTTP/1.1 server (proxy/server) and, unless HTTP2=false,
 * the HTTP/2 server (proxy/h2-server) serve them; both hand requests to the
 * one Forwarder and upgrades to the Tunnels. The drain steps the shutdown
 * sequence calls are gathered here for both protocols.
 */
import type { AcceptSockets } from './accept-sockets.js';
import type { Forwarder } from './forward.js';
import type { Tunnels } from './upgrade.js';
import { createProxyServer, type ProxyServerDeps } from './server.js';
import { createH2Server } from './h2-server.js';
import { createFrontDoor } from './front-door.js';
import type { ConnectionAge } from './connection-age.js';
import type { ListenerTls } from '../tls/listener-tls.js';

export interface HttpPortDeps extends ProxyServerDeps {
  readonly forwarder: Forwarder;
  readonly tunnels: Tunnels;
  readonly draining: () => boolean;
  readonly age: ConnectionAge;
}

export interface HttpPort {
  /** The listening sockets of the port (proxy/accept-sockets). */
  readonly sockets: AcceptSockets;
  /** TLS on the port (TLS_CERT_FILE), for rotation; undefined in plain text. */
  readonly tls: ListenerTls | undefined;
  /** SIGTERM: HTTP/2 clients are told at once to open no more streams. */
  announceDrain(): void;
  /** After SHUTDOWN_DELAY_MS: stop accepting, close idle connections, let HTTP/2 sessions finish their streams. */
  stopListening(): void;
  /** Resolves once every HTTP/2 session has closed (its last GOAWAY flushed); HTTP/1.1 connections are in-flight work. */
  sessionsClosed(): Promise<void>;
  /** HTTP/2 sessions open now, for the drain's log. */
  openSessions(): number;
  /** The end of the drain: cut everything left; resolves once the HTTP/1.1 connections have closed. */
  closeAll(): Promise<void>;
}

export function createHttpPort(d: HttpPortDeps): HttpPort {
  const http1 = createProxyServer(d);
  const h2 = d.config.http2 ? createH2Server({ ...d, deadlines: http1.deadlines }) : undefined;
  const { sockets, tls } = createFrontDoor({
    maxConnections: d.config.maxConnections, http1: http1.server, http2: h2?.server, deadlines: http1.deadlines, age: d.age, metrics: d.metrics,
    logger: d.logger, tls: d.config.listenerTls, handshakeTimeoutMs: d.config.clientHeadersTimeoutMs, inFlight: d.inFlight,
  });
  return {
    sockets,
    tls,
    announceDrain: () => h2?.announceDrain(),
    stopListening() {
      sockets.close();
      http1.stopListening();
      h2?.closeGracefully();
    },
    sessionsClosed: () => h2?.closed() ?? Promise.resolve(),
    openSessions: () => h2?.openSessions() ?? 0,
    closeAll() {
      d.tunnels.closePending();
      const closed = http1.closeAll();
      h2?.closeAll();
      tls?.closeAll();
      return closed;
    },
  };
}
