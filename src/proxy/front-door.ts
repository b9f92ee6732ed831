/**
 * The traffic port. Accepts TCP connections (at most MAX_CONNECTIONS),
 * starts each one's head clock at accept (proxy/head-deadline), and hands it
 * to the protocol it speaks: HTTP/2 when its first bytes are the HTTP/2
 * connection preface (h2c with prior knowledge, RFC 9113 §3.3), HTTP/1.1
 * otherwise. The bytes read to decide are put back for the chosen server.
 * With HTTP2=false every connection goes to HTTP/1.1 at once.
 */
import net from 'node:net';
import type http from 'node:http';
import type http2 from 'node:http2';
import type { Metrics } from '../metrics.js';
import type { HeadDeadlines } from './head-deadline.js';
import type { ConnectionAge } from './connection-age.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface FrontDoorDeps {
  readonly maxConnections: number;
  readonly http1: http.Server;
  /** Undefined with HTTP2=false. */
  readonly http2: http2.Http2Server | undefined;
  readonly deadlines: HeadDeadlines;
  readonly age: ConnectionAge;
  readonly metrics: Metrics;
}

export function createFrontDoor(d: FrontDoorDeps): net.Server {
  const server = net.createServer({ noDelay: true }, (socket) => {
    d.metrics.downstreamConnectionsTotal.inc();
    d.metrics.downstreamConnections.inc();
    socket.once('close', () => {
      d.metrics.downstreamConnections.dec();
      d.deadlines.forget(socket);
    });
    d.deadlines.watch(socket);
    d.age.accepted(socket);
    const h2 = d.http2;
    if (h2 === undefined) return void d.http1.emit('connection', socket);
    socket.on('error', () => socket.destroy()); // until a protocol server owns the socket
    sniff(socket, (preface) => {
      if (preface) return void h2.emit('connection', socket); // it reads what is buffered on its own
      d.http1.emit('connection', socket);
      socket.resume();
    });
  });
  server.maxConnections = d.maxConnections;
  return server;
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
