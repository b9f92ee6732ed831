/**
 * The HTTP traffic listener: Node's strict parser (llhttp) in front, limits
 * and deadlines for clients (proxy/head-deadline), malformed requests
 * answered 400/431 and closed, requests answered in order (proxy/pipeline)
 * and handed to the Forwarder, upgrades to the tunnel (an `Upgrade: h2c`
 * offer is ignored: proxy/h2c-offer), connections and in-flight work
 * counted for the drain.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import { parserRefusal, rawErrorResponse, sendRefusal, type RefusalKind } from './error-response.js';
import type { Outcomes } from './outcome.js';
import { clientAddress } from './headers.js';
import type { Forwarder } from './forward.js';
import type { Tunnels } from './upgrade.js';
import { checkRequest, checkUpgrade, originForm } from './request-guard.js';
import { http1Head } from './downstream.js';
import { HeadDeadlines } from './head-deadline.js';
import { Pipeline, readTurn, type Queued } from './pipeline.js';
import { h2cOffer, headBytes, withoutH2cOffer } from './h2c-offer.js';

/** Node's own header check runs on this period, behind Outrigger's deadline. */
const MAX_CHECK_INTERVAL_MS = 1000;

export interface ProxyServerDeps {
  readonly config: Config;
  readonly forwarder: Forwarder;
  readonly tunnels: Tunnels;
  readonly inFlight: InFlight;
  readonly metrics: Metrics;
  readonly outcomes: Outcomes;
  readonly logger: Logger;
}

/** The HTTP/1.1 server plus the drain operations the shutdown sequence needs. */
export interface ProxyListener {
  /** Not listening itself: proxy/front-door hands it its connections. */
  readonly server: http.Server;
  /** The head clocks of every client connection (the front door starts them at accept). */
  readonly deadlines: HeadDeadlines;
  /**
   * Stops accepting and closes keep-alive connections that sit idle after a
   * response. A connection accepted but still waiting for its first request
   * keeps its chance: that request is served (with Connection: close).
   */
  stopListening(): void;
  /** Cuts every connection that is left; resolves once each has closed (and its requests are logged). */
  closeAll(): Promise<void>;
}

export function createProxyServer(d: ProxyServerDeps): ProxyListener {
  const { config } = d;
  const server = http.createServer({
    // A backstop only: Outrigger's own deadline (proxy/head-deadline) fires first.
    headersTimeout: config.clientHeadersTimeoutMs + 2 * MAX_CHECK_INTERVAL_MS,
    requestTimeout: 0, // bodies are bounded by IDLE_TIMEOUT_MS of silence instead
    keepAliveTimeout: config.clientKeepaliveTimeoutMs,
    connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, Math.floor(config.clientHeadersTimeoutMs / 4))),
    noDelay: true,
    // request-guard refuses a missing Host itself, so that the answer is counted and logged like every refusal.
    requireHostHeader: false,
    // Node ≥ 24.12 (earlier ones ignore it): a request without Content-Length or Transfer-Encoding,
    // which has no body (RFC 9112 §6.3), starts ended and never emits 'data', 'end' or 'close'.
    // Nothing here waits for those on a bodiless request; `req.complete` still turns true.
    optimizeEmptyRequests: true,
  } as http.ServerOptions);
  const connections = new Map<Socket, Pipeline>();

  /** Counters and the access line for an answer Outrigger made without a backend. */
  const countRefusal = (kind: RefusalKind, socket: Socket, req: http.IncomingMessage | undefined): number =>
    d.outcomes.refused(kind, clientAddress(socket.remoteAddress), req?.method ?? null, req === undefined ? null : req.url ?? '');
  /** Answers on the raw socket (no ServerResponse owns it) and closes. */
  const answerAndClose = (socket: Socket, kind: RefusalKind, req?: http.IncomingMessage): void => {
    const status = countRefusal(kind, socket, req);
    socket.on('error', () => socket.destroy());
    if (socket.writable) socket.end(rawErrorResponse(status, kind));
    socket.destroySoon();
  };
  const deadlines = new HeadDeadlines({
    headersTimeoutMs: config.clientHeadersTimeoutMs,
    keepAliveTimeoutMs: config.clientKeepaliveTimeoutMs,
    onIncompleteHead: (socket) => answerAndClose(socket, 'request_timeout'),
    onSilent: (socket) => socket.destroy(),
  });

  const start = (p: Pipeline, q: Queued): void => {
    q.started = true;
    p.active = q;
    p.requests += 1;
    const head = http1Head(q.req);
    const problem = checkRequest(head);
    if (problem === undefined) {
      const forwarded = toOriginForm(q.req) ? { ...head, url: q.req.url ?? '' } : head;
      return void (q.closed = d.forwarder.handle(q.req, q.res, forwarded, true));
    }
    p.closing = true; // whatever is pipelined behind a refusal is dropped with the closing connection
    d.logger.debug({ reason: problem.reason }, 'refused request');
    countRefusal(problem.kind, p.socket, q.req);
    sendRefusal(q.res, problem.kind);
  };
  /** The active request's answer is done (or cut): start the next, or settle the connection. */
  const advance = (p: Pipeline): void => {
    p.active = undefined;
    // That answer closed the connection (Connection: close, an HTTP/1.0 client, MAX_CONNECTION_AGE_MS, the
    // drain): what was pipelined behind it could never be answered, so it is never sent.
    if (p.socket.writableEnded) p.closing = true;
    const q = p.next();
    if (q !== undefined) return start(p, q);
    if (p.finalAnswer !== undefined) return answerAndClose(p.socket, p.finalAnswer);
    if (p.readAgain !== undefined) return p.readAgain();
    if (!p.closing && !p.socket.destroyed) deadlines.idle(p.clock, p.socket);
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const p = connections.get(req.socket);
    if (p === undefined || p.closing) return; // behind a refusal or an invalid stream: dropped with the connection
    // The request's own count begins before the connection's first one ends: the drain never sees zero between.
    const q: Queued = { req, res, end: d.inFlight.begin(), turn: readTurn(), started: false, closed: undefined };
    p.endFresh?.();
    p.endFresh = undefined;
    HeadDeadlines.busy(p.clock);
    // 'close' comes once per response (Node guards it): 'on' spares the per-request wrapper of 'once'.
    // One listener serves the connection and the forwarded exchange (q.closed, set when it starts).
    res.on('close', () => {
      q.end();
      if (q.started && p.active === q) advance(p);
      q.closed?.();
    });
    if (!p.add(q)) return void p.socket.destroy();
    if (p.active === undefined) start(p, q);
  };
  server.on('request', onRequest);
  // With a listener here Node does not answer 100 itself: the backend decides, and we relay.
  server.on('checkContinue', onRequest);
  // Nor 417 for another expectation: request-guard refuses it, counted and logged.
  server.on('checkExpectation', onRequest);

  /** The socket leaves HTTP/1.1 request handling (upgrade, CONNECT). */
  const release = (socket: Socket): void => {
    const p = connections.get(socket);
    connections.delete(socket);
    deadlines.forget(socket);
    p?.endFresh?.();
  };
  /**
   * An offer of h2c alone (proxy/h2c-offer): Node's parser has let go of the
   * connection. The head, rebuilt without the offer, and the bytes behind it
   * go back to a new parser on the same connection, pipeline and head clock,
   * once the answers it owes are written: a plain HTTP/1.1 request.
   */
  const readAgain = (req: http.IncomingMessage, socket: Socket, head: Buffer): void => {
    const p = connections.get(socket);
    if (p === undefined || p.closing) return; // the connection closes after the answers it owes
    const bytes = Buffer.concat([headBytes(req.method ?? '', req.url ?? '', req.httpVersion, withoutH2cOffer(req.rawHeaders)), head]);
    p.readAgain = () => {
      p.readAgain = undefined;
      if (socket.destroyed) return;
      socket.setTimeout(0); // an earlier answer's keep-alive timer belongs to the parser that left
      socket.unshift(bytes);
      server.emit('connection', socket);
    };
    if (p.active === undefined) p.readAgain();
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const offer = h2cOffer(req.rawHeaders);
    if (offer === 'only') return readAgain(req, socket, head);
    release(socket);
    // `websocket, h2c`: the other protocol's upgrade goes on, without the h2c offer.
    const raw = offer === 'mixed' ? withoutH2cOffer(req.rawHeaders) : req.rawHeaders;
    const problem = checkUpgrade({ ...http1Head(req), rawHeaders: raw }, head.length);
    if (problem !== undefined) return answerAndClose(socket, problem.kind, req);
    toOriginForm(req);
    d.tunnels.open(req, socket, head, raw);
  });
  server.on('connect', (req: http.IncomingMessage, socket: Socket) => {
    release(socket);
    answerAndClose(socket, 'method_not_allowed', req);
  });
  server.on('connection', (socket: Socket) => {
    if (connections.has(socket)) return; // read again after an h2c offer: the same connection goes on
    const p = new Pipeline(socket, deadlines.watch(socket));
    // Until its first request, an open connection is work the drain waits for.
    p.endFresh = d.inFlight.begin();
    connections.set(socket, p);
    socket.once('close', () => {
      release(socket);
      p.dropQueued();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A client that went away, or half-closed in the middle of a message: nothing to answer.
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) return void socket.destroy();
    const p = connections.get(socket);
    if (p?.finalAnswer !== undefined) return; // the stream is already known to be invalid
    // Node's own header deadline (the backstop): a connection that sent nothing is closed without an answer.
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === p?.clock.bytes) return void socket.destroy();
    const kind = parserRefusal(err.code);
    d.logger.debug({ code: err.code, reason: err.message }, 'rejected malformed request');
    deadlines.forget(socket);
    const verdict = p === undefined ? 'answer' : p.invalid(kind);
    if (verdict === 'answer') return answerAndClose(socket, kind);
    if (verdict === 'cut') {
      countRefusal(kind, socket, undefined);
      return void socket.destroy();
    }
    // 'defer': the requests before the bad bytes are answered first, then advance() writes the refusal.
  });
  return {
    server,
    deadlines,
    stopListening() {
      // Keep-alive connections idle after an answer; one accepted but still waiting for its
      // first request keeps its chance: that request is served (with Connection: close).
      for (const [socket, p] of connections) if (p.requests > 0 && p.active === undefined) socket.destroy();
    },
    closeAll() {
      deadlines.close();
      // Each response's 'close' (which writes its access line) runs on its socket's 'close', a turn
      // later: waited for, so that the lines of requests cut here are written before the process exits.
      const closed = [...connections.keys()].filter((s) => !s.closed).map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
      server.closeAllConnections();
      for (const socket of connections.keys()) socket.destroy();
      return Promise.all(closed).then(() => undefined);
    },
  };
}

/**
 * An accepted request's target as its backend gets it: an absolute-form one
 * becomes origin-form (request-guard's originForm), set on `req`, which the
 * tunnel and the access line read too. True when it changed.
 */
function toOriginForm(req: http.IncomingMessage): boolean {
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47 /* / */) return false;
  const target = originForm(req.method ?? '', url);
  if (target === url) return false;
  req.url = target;
  return true;
}
