/**
 * HTTP/2 from clients (h2c with prior knowledge, or ALPN `h2` on a TLS
 * listener; proxy/front-door hands the connections over). Every stream is one request for the Forwarder, balanced
 * on its own: a client connection carrying many streams spreads them over
 * the backends. The request guard and the refusal answers apply per stream.
 *
 * Lifecycle (SPEC §8): the preface must arrive within
 * CLIENT_HEADERS_TIMEOUT_MS (the head clock of proxy/head-deadline); an
 * idle session is closed after CLIENT_KEEPALIVE_TIMEOUT_MS.
 *
 * Draining a session (SIGTERM, MAX_CONNECTION_AGE_MS) follows RFC 9113 §6.8:
 * a GOAWAY with the highest stream id (open no more streams), then, a grace
 * later, the real last stream id, and the session closes once its streams
 * have finished. On SIGTERM every open session is drained at once. A session
 * that opens during SHUTDOWN_DELAY_MS (kube-proxy still sends new
 * connections) is served like any other until listening stops, and gets its
 * GOAWAY then; open streams finish within DRAIN_TIMEOUT_MS. It is not sent
 * away earlier, because Node refuses a stream that crosses any GOAWAY it
 * sends (docs/security.md, "HTTP/2 drain"): a client retries such a call once
 * (grpc-js), on its new session, and that session must not refuse it again.
 */
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import type { Forwarder } from './forward.js';
import type { HeadDeadlines } from './head-deadline.js';
import type { Outcomes } from './outcome.js';
import { clientSocket, http2Head, rememberSocket, sendContinue } from './downstream.js';
import { checkHttp2Host, checkHttp2Method, checkHttp2Path, checkRequest } from './request-guard.js';
import { sendRefusal } from './error-response.js';
import { clientAddress } from './headers.js';
import { guardSession, headerListSize, MAX_HEADER_LIST_SIZE } from './h2-abuse-guard.js';
import { quietStreamListeners, releaseClosedStream } from '../transport/h2-release.js';

/** The largest stream id (2^31 - 1): a first GOAWAY that tells the client to stop opening streams. */
const MAX_STREAM_ID = 2 ** 31 - 1;
/**
 * Between the two GOAWAYs of a drain: streams the client sent before it read the first one still
 * arrive and are served (RFC 9113 §6.8 asks for at least a round trip; in a cluster that is far less).
 */
const GOAWAY_GRACE_MS = 1000;

export interface H2ServerDeps {
  readonly config: Config;
  readonly forwarder: Forwarder;
  readonly inFlight: InFlight;
  readonly metrics: Metrics;
  readonly outcomes: Outcomes;
  readonly logger: Logger;
  readonly deadlines: HeadDeadlines;
}

export interface H2Listener {
  readonly server: http2.Http2Server;
  /** Drain, step 1: every session is told to open no more streams (GOAWAY with the highest id). */
  announceDrain(): void;
  /** Drain, step 2: GOAWAY with the real last stream id; sessions close once their streams finish. */
  closeGracefully(): void;
  /** Sessions open now, for the drain's log. */
  openSessions(): number;
  /** Resolves once no session is open (each has sent its last GOAWAY and flushed it). */
  closed(): Promise<void>;
  /** The end of the drain: whatever is left is cut. */
  closeAll(): void;
}

export function createH2Server(d: H2ServerDeps): H2Listener {
  const { config, metrics } = d;
  const server = http2.createServer({
    // Node leaves the header list unbounded unless this is set (its advertised default is not enforced).
    settings: { maxConcurrentStreams: config.maxConcurrentStreams, maxHeaderListSize: MAX_HEADER_LIST_SIZE },
    maxHeaderListPairs: 256,
  });
  /** Open sessions, and the connection each runs on as the front door accepted it. */
  const sessions = new Map<http2.ServerHttp2Session, Socket | undefined>();
  const emptied: Array<() => void> = [];
  /** Listening has stopped: a session that starts now (its preface or TLS handshake was still on the way) goes at once. */
  let closing = false;
  // The socket the next session runs on, as the front door watches it (session.socket is a proxy, another object).
  let arriving: Socket | undefined;
  server.prependListener('connection', (socket: Socket) => (arriving = socket));
  server.on('session', (session) => {
    const socket = arriving; // Node emits 'session' within the 'connection' that made it
    arriving = undefined;
    sessions.set(session, socket);
    session.on('error', () => session.destroy());
    guardSession(session, (reason) => {
      d.logger.warn({ client: clientAddress(session.socket.remoteAddress), reason }, 'HTTP/2 session ended for abuse');
    });
    session.once('close', () => {
      sessions.delete(session);
      if (sessions.size === 0) for (const wake of emptied.splice(0)) wake();
    });
    // The preface and the client's SETTINGS arrived: the head clock's job is done; idle time takes over.
    if (socket !== undefined) {
      rememberSocket(session, socket);
      session.once('remoteSettings', () => d.deadlines.forget(socket));
    }
    session.setTimeout(config.clientKeepaliveTimeoutMs, () => session.close());
    if (closing) closeLate(session);
    if (config.maxConnectionAgeMs > 0) {
      const aged = setTimeout(() => drainSession(session), config.maxConnectionAgeMs);
      aged.unref();
      session.once('close', () => clearTimeout(aged));
    }
  });
  server.on('sessionError', () => undefined); // the session's own 'error' listener closes it
  // The core stream API: the stream is the request and the response (proxy/downstream, proxy/h2-answer).
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    quietStreamListeners(stream);
    // A stream reset by the client surfaces as an error on it: nothing to do but let it close.
    stream.on('error', ignore);
    // Closed before the answer ended: by the client (a reset, even with NO_ERROR), or by Outrigger
    // cutting a broken answer. Nothing more can be sent; a write still queued could hold the stream's
    // 'close', and with it the backend request, until the session ends (seen on Node 20). Destroyed on
    // the next turn of the loop, once a reset Outrigger submitted has gone out.
    stream.on('aborted', onAborted);
    metrics.downstreamStreams.inc();
    const endFlight = d.inFlight.begin();
    let open = true;
    const end = () => {
      if (!open) return;
      open = false;
      metrics.downstreamStreams.dec();
      endFlight();
      releaseClosedStream(stream);
    };
    stream.on('close', end); // once per stream; `end` is idempotent anyway
    // Reset by the client before this handler ran (rapid reset): it will not close again, and is not forwarded.
    if (stream.destroyed) return end();
    const head = http2Head(headers, rawHeaders);
    // Node enforces MAX_HEADER_LIST_SIZE only once the client acknowledged it; before that, here. The
    // session is closed after the answer, as an HTTP/1.1 connection is after its 431.
    if (headerListSize(rawHeaders) > MAX_HEADER_LIST_SIZE) {
      d.outcomes.refused('request_header_too_large', clientAddress(clientSocket(stream)?.remoteAddress), head.method, head.url, 'HTTP/2');
      sendRefusal(stream, 'request_header_too_large');
      stream.session?.close();
      return;
    }
    // CONNECT (RFC 9113 §8.5) and methods Node's HTTP/1.1 parser does not know are refused as on HTTP/1.1;
    // an unmet Expect falls to the request guard (417).
    // A Host beside :authority must name the same (RFC 9113 §8.3.1); http2Head set `host` from :authority when there was none.
    const problem = checkHttp2Method(head.method) ?? checkHttp2Path(head.url, head.method)
      ?? checkRequest(head) ?? (headers.host === headers[':authority'] ? undefined : checkHttp2Host(rawHeaders));
    if (problem === undefined) {
      if (headers.expect !== undefined) answerContinue(stream);
      return d.forwarder.handle(stream, stream, head);
    }
    d.logger.debug({ reason: problem.reason }, 'refused request');
    d.outcomes.refused(problem.kind, clientAddress(clientSocket(stream)?.remoteAddress), head.method, head.url, 'HTTP/2');
    sendRefusal(stream, problem.kind);
  });
  return {
    server,
    announceDrain() {
      for (const session of sessions.keys()) drainSession(session);
    },
    closeGracefully() {
      closing = true;
      for (const session of sessions.keys()) session.close();
    },
    openSessions: () => sessions.size,
    closed() {
      return sessions.size === 0 ? Promise.resolve() : new Promise((resolve) => emptied.push(resolve));
    },
    closeAll() {
      // The connection is dropped first, which clients read as retryable (grpc-js: UNAVAILABLE): a
      // session.destroy() on a live socket would reset each open stream with NO_ERROR, which a gRPC
      // client reads as INTERNAL. The session goes next, at once, so that its streams close (and are
      // logged and counted) before the process exits.
      for (const [session, socket] of sessions) {
        socket?.destroy();
        session.destroy();
      }
    },
  };
}

function ignore(): void {}

/** A stream's 'aborted' listener (one function for every stream: Node calls it with the stream as `this`). */
function onAborted(this: http2.ServerHttp2Stream): void {
  setImmediate(destroyLeftover, this);
}

function destroyLeftover(stream: http2.ServerHttp2Stream): void {
  if (!stream.destroyed) stream.destroy();
}

/** `Expect: 100-continue` (the only expectation the guard lets through): the client may send its body. */
function answerContinue(stream: http2.ServerHttp2Stream): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  try {
    sendContinue(stream);
  } catch {
    stream.destroy(); // Node refused the frame: the stream cannot be answered
  }
}

/**
 * A session that started after listening stopped: its first streams (what came with the preface)
 * are served, as an HTTP/1.1 connection accepted before then gets its first request served; then
 * the last GOAWAY. One that sends no stream goes a grace later.
 */
function closeLate(session: http2.Http2Session): void {
  const close = (): void => session.close();
  session.once('stream', close); // after the server's own listener: the streams of this read are in
  setTimeout(close, GOAWAY_GRACE_MS).unref();
}

const drained = new WeakSet<http2.Http2Session>();

/** GOAWAY with the highest stream id now; the real last one a grace later, closing once the streams are done. Once per session. */
function drainSession(session: http2.Http2Session): void {
  if (session.closed || session.destroyed || drained.has(session)) return;
  drained.add(session);
  session.goaway(http2.constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  const last = setTimeout(() => session.close(), GOAWAY_GRACE_MS); // close() sends the last processed stream id
  last.unref();
  session.once('close', () => clearTimeout(last));
}
