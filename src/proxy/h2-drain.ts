/**
 * Draining one HTTP/2 client session (RFC 9113 §6.8, SPEC §8): a first
 * GOAWAY with the highest stream id (open no more streams), then, a grace
 * later, the real last stream id; the session closes once its streams are
 * done. Between the two, streams the client sent before it read the first
 * GOAWAY are still served.
 *
 * Node cannot send that first GOAWAY the way the RFC means it: any GOAWAY it
 * sends through nghttp2, whatever its last stream id, makes nghttp2 refuse
 * every new stream from then on (REFUSED_STREAM), so a call already on its way
 * fails (grpc-js retries a refused call once, then reports UNAVAILABLE). On a
 * plain-text connection the first GOAWAY is therefore written to the socket
 * directly, beside nghttp2's frames, which it writes whole (nghttp2 calls this
 * frame a "shutdown notice" and keeps accepting streams after it). Over TLS
 * two writers cannot share the TLS layer in Node, so there the first GOAWAY is
 * Node's and a stream crossing it is refused (docs/security.md).
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';

/** The largest stream id (2^31 - 1). */
const MAX_STREAM_ID = 2 ** 31 - 1;

/**
 * Between the two GOAWAYs: streams the client sent before it read the first one still arrive and
 * are served (the RFC asks for at least a round trip; in a cluster that is far less).
 */
export const GOAWAY_GRACE_MS = 1000;

/** GOAWAY, NO_ERROR, last stream id 2^31 - 1: a 9-byte frame head and an 8-byte payload. */
const SHUTDOWN_NOTICE = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const drained = new WeakSet<http2.Http2Session>();

/**
 * Starts draining `session` (once; later calls do nothing). `socket` is the
 * connection it runs on as accepted (proxy/front-door), or undefined.
 */
export function drainSession(session: http2.Http2Session, socket: Socket | undefined): void {
  if (session.closed || session.destroyed || drained.has(session)) return;
  drained.add(session);
  announce(session, socket);
  const last = setTimeout(() => session.close(), GOAWAY_GRACE_MS); // close() sends the last processed stream id
  last.unref();
  session.once('close', () => clearTimeout(last));
}

/** The first GOAWAY. */
function announce(session: http2.Http2Session, socket: Socket | undefined): void {
  if (socket === undefined || (socket as Socket & { encrypted?: boolean }).encrypted === true) {
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
    return;
  }
  // The server's SETTINGS must be the first frame: until the client acknowledged them they may not be out yet.
  if (session.pendingSettingsAck) session.once('localSettings', () => writeNotice(session, socket));
  else writeNotice(session, socket);
}

function writeNotice(session: http2.Http2Session, socket: Socket): void {
  if (session.closed || session.destroyed || socket.destroyed || !socket.writable) return;
  socket.write(SHUTDOWN_NOTICE);
}
