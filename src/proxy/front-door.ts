/**
 * The traffic port. Accepts TCP connections (at most MAX_CONNECTIONS, on
 * the sockets of proxy/accept-sockets) and hands each to the protocol it speaks.
 * Work done at accept stays small (counters, the head clock, a close
 * listener): the protocol is decided on the first bytes, not at accept.
 *
 * Plain text: the head clock starts at accept (proxy/head-deadline); HTTP/2
 * when the first bytes are the HTTP/2 connection preface (h2c with prior
 * knowledge, RFC 9113 §3.3), HTTP/1.1 otherwise. The bytes read to decide
 * are put back for the chosen server. With HTTP2=false every connection goes
 * to HTTP/1.1 at once.
 *
 * TLS (TLS_CERT_FILE): the connection speaks TLS only. tls/listener-tls runs
 * the handshake (bounded by CLIENT_HEADERS_TIMEOUT_MS); the ALPN protocol
 * then decides: `h2` to HTTP/2, anything else (`http/1.1`, none) to
 * HTTP/1.1, whose head clock starts when the handshake ends.
 */
import type net from 'node:net';
import type http from 'node:http';
import type http2 from 'node:http2';
import type tls from 'node:tls';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { HeadDeadlines } from './head-deadline.js';
import type { ConnectionAge } from './connection-age.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import { ListenerTls } from '../tls/listener-tls.js';
import type { ListenerTlsConfig } from '../tls/tls-config.js';
import { AcceptSockets, ACCEPT_SOCKETS } from './accept-sockets.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface FrontDoorDeps {
  readonly maxConnections: number;
  readonly http1: http.Server;
  /** Undefined with HTTP2=false. */
  readonly http2: http2.Http2Server | undefined;
  readonly deadlines: HeadDeadlines;
  readonly age: ConnectionAge;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Undefined: plain text. */
  readonly tls: ListenerTlsConfig | undefined;
  /** CLIENT_HEADERS_TIMEOUT_MS, which also bounds the TLS handshake. */
  readonly handshakeTimeoutMs: number;
  readonly inFlight: InFlight;
}

export interface FrontDoor {
  readonly sockets: AcceptSockets;
  /** The TLS side (for rotation and the drain); undefined in plain text. */
  readonly tls: ListenerTls | undefined;
}

export function createFrontDoor(d: FrontDoorDeps): FrontDoor {
  const h2 = d.http2;
  /**
   * A connection still in the TLS handshake or before its first bytes is work the drain waits for,
   * as one the HTTP/1.1 server holds before its first request: its request may still come. It ends
   * once a protocol server has the connection (which counts from there) or when it closes.
   */
  const undecided = new WeakMap<net.Socket, () => void>();
  const decided = (socket: net.Socket): void => {
    undecided.get(socket)?.();
    undecided.delete(socket);
  };
  /** A TLS connection whose handshake succeeded; `raw` is the TCP connection counted at accept. */
  const secured = (socket: tls.TLSSocket, raw: net.Socket | undefined): void => {
    d.age.accepted(socket);
    if (h2 === undefined || socket.alpnProtocol !== 'h2') d.http1.emit('connection', socket);
    else {
      // The preface and SETTINGS are due within CLIENT_HEADERS_TIMEOUT_MS, as on h2c.
      d.deadlines.handedToHttp2(socket);
      socket.once('close', () => d.deadlines.forget(socket));
      h2.emit('connection', socket);
    }
    if (raw !== undefined) decided(raw); // otherwise counted until it closes
  };
  const listenerTls = d.tls === undefined ? undefined : new ListenerTls({
    config: d.tls, http2: h2 !== undefined, handshakeTimeoutMs: d.handshakeTimeoutMs, metrics: d.metrics, logger: d.logger,
  }, secured);

  const sockets = new AcceptSockets({ server: { noDelay: true }, maxConnections: d.maxConnections, sockets: ACCEPT_SOCKETS, logger: d.logger }, (socket) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    socket.once('close', () => {
      d.metrics.downstreamConnections.dec();
      d.deadlines.forget(socket);
      decided(socket);
    });
    if (listenerTls !== undefined || h2 !== undefined) undecided.set(socket, d.inFlight.begin());
    if (listenerTls !== undefined) {
      socket.on('error', () => socket.destroy());
      return listenerTls.accept(socket);
    }
    d.deadlines.watch(socket);
    d.age.accepted(socket);
    if (h2 === undefined) return void d.http1.emit('connection', socket);
    socket.on('error', () => socket.destroy()); // until a protocol server owns the socket
    sniff(socket, (preface) => {
      if (preface) {
        d.deadlines.handedToHttp2(socket);
        h2.emit('connection', socket); // it reads what is buffered on its own
        return decided(socket);
      }
      d.http1.emit('connection', socket);
      decided(socket);
      socket.resume();
    });
  });
  return { sockets, tls: listenerTls };
}

/** Reads until the first bytes either are the HTTP/2 preface or cannot be; puts them back and decides. */
function sniff(socket: net.Socket, decide: (preface: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const prefix = seen.compare(PREFACE, 0, n, 0, n) === 0;
    if (prefix && seen.length < PREFACE.length) return; // could still be the preface
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    decide(prefix);
  };
  socket.on('data', onData);
}
