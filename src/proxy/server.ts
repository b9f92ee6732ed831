/**
 * The HTTP traffic listener: Node's strict parser (llhttp) in front, limits
 * and timeouts for clients, malformed requests answered 400/431 and closed,
 * requests handed to the Forwarder, upgrades to the tunnel, connections and
 * in-flight work counted for the drain.
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { methodLabel, type Metrics } from '../metrics.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import { rawErrorResponse } from './error-response.js';
import { clientAddress } from './headers.js';
import type { Forwarder } from './forward.js';
import type { Tunnels } from './upgrade.js';
import { checkRequest, checkUpgrade, type Rejection, type RejectionKind, type RequestHead } from './request-guard.js';

/** Node checks header timeouts on this period; keep it well below CLIENT_HEADERS_TIMEOUT_MS. */
const MAX_CHECK_INTERVAL_MS = 1000;

const CLIENT_ERRORS: Record<string, readonly [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request_header_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout'],
};
const BAD_REQUEST = [400, 'Bad Request', 'bad_request'] as const;
/** Requests that parsed but request-guard refuses: never forwarded, answered and closed. */
const REFUSALS: Record<RejectionKind, readonly [number, string]> = {
  bad_request: [400, 'Bad Request'],
  unsupported_transfer_coding: [501, 'Not Implemented'],
  http_version_not_supported: [505, 'HTTP Version Not Supported'],
};

export interface ProxyServerDeps {
  readonly config: Config;
  readonly forwarder: Forwarder;
  readonly tunnels: Tunnels;
  readonly inFlight: InFlight;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** The traffic listener plus the drain operations the shutdown sequence needs. */
export interface ProxyListener {
  readonly server: http.Server;
  /**
   * Stops accepting and closes keep-alive connections that sit idle after a
   * response. A connection accepted but still waiting for its first request
   * keeps its chance: that request is served (with Connection: close).
   */
  stopListening(): void;
  /** Cuts every connection that is left. */
  closeAll(): void;
}

interface ConnectionState {
  requests: number;
  active: number;
  /** Pipelined requests waiting for the one before them to be answered. */
  queue: Array<() => void>;
}

/** Pipelined requests held per connection before it is closed (each waits for the previous answer). */
const MAX_PIPELINED = 32;

export function createProxyServer(d: ProxyServerDeps): ProxyListener {
  const { config, metrics } = d;
  const server = http.createServer({
    headersTimeout: config.clientHeadersTimeoutMs,
    requestTimeout: 0, // bodies are bounded by IDLE_TIMEOUT_MS of silence instead
    keepAliveTimeout: config.clientKeepaliveTimeoutMs,
    connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(50, Math.floor(config.clientHeadersTimeoutMs / 4))),
    noDelay: true,
    requireHostHeader: true,
  });
  server.maxConnections = config.maxConnections;
  const connections = new Map<Socket, ConnectionState>();
  const fresh = new WeakMap<Socket, () => void>();
  /** Connections answered with a refusal: whatever was pipelined after it is dropped with them. */
  const refused = new WeakSet<Socket>();
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const problem = checkRequest(headOf(req));
    if (problem === undefined) return false;
    refused.add(req.socket);
    const [status, reason] = countRefusal(problem, methodLabel(req.method));
    if (config.accessLog) {
      d.logger.info({ client: clientAddress(req.socket.remoteAddress), method: req.method, path: (req.url ?? '').split('?')[0], backend: null, status, durationMs: 0, attempts: 0, refused: problem.kind }, 'request');
    }
    const body = `${problem.kind}\n`;
    res.writeHead(status, reason, {
      'content-type': 'text/plain; charset=utf-8', 'x-outrigger-error': problem.kind, 'content-length': body.length, connection: 'close',
    });
    res.end(body);
    return true;
  };
  const countRefusal = (problem: Rejection, method: string): readonly [number, string] => {
    const refusal = REFUSALS[problem.kind];
    metrics.proxyErrors.inc({ kind: problem.kind });
    metrics.httpRequests.inc([method, String(refusal[0])]);
    d.logger.debug({ reason: problem.reason }, 'refused ambiguous request');
    return refusal;
  };

  /**
   * Pipelined requests are forwarded one at a time, in order: one client
   * connection never holds more than one backend request (no fan-out, and
   * POSTs cannot overtake each other on different backends).
   */
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (refused.has(req.socket)) return; // pipelined behind a refusal: dropped with the closing connection
    const end = d.inFlight.begin();
    const socket = req.socket;
    const state = connections.get(socket);
    fresh.get(socket)?.();
    let started = false;
    const start = () => {
      if (res.destroyed) return;
      started = true;
      if (state !== undefined) {
        state.requests += 1;
        state.active += 1;
      }
      if (!refuse(req, res)) d.forwarder.handle(req, res);
    };
    res.once('close', () => {
      end();
      if (!started || state === undefined) return;
      state.active -= 1;
      const next = state.queue.shift();
      if (state.queue.length === 0 && !socket.destroyed) socket.resume();
      next?.();
    });
    if (state === undefined || state.active === 0) return start();
    if (state.queue.length >= MAX_PIPELINED) return void socket.destroy();
    state.queue.push(start);
    socket.pause(); // stop parsing further pipelined requests until this one is served
  };
  server.on('request', onRequest);
  // With a listener here Node does not answer 100 itself: the backend decides, and we relay.
  server.on('checkContinue', onRequest);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    fresh.get(socket)?.();
    connections.delete(socket);
    const problem = checkUpgrade(headOf(req), head.length);
    if (problem !== undefined) {
      const [status, reason] = countRefusal(problem, methodLabel(req.method));
      socket.on('error', () => socket.destroy());
      socket.end(rawErrorResponse(status, reason, problem.kind));
      socket.destroySoon();
      return;
    }
    d.tunnels.open(req, socket, head);
  });
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    fresh.get(socket)?.();
    metrics.httpRequests.inc(['CONNECT', '405']);
    metrics.proxyErrors.inc({ kind: 'method_not_allowed' });
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(405, 'Method Not Allowed', 'method_not_allowed'));
  });
  server.on('connection', (socket: Socket) => {
    metrics.downstreamConnectionsTotal.inc();
    metrics.downstreamConnections.inc();
    connections.set(socket, { requests: 0, active: 0, queue: [] });
    // Until its first request, an open connection is work the drain waits for.
    fresh.set(socket, d.inFlight.begin());
    socket.once('close', () => {
      metrics.downstreamConnections.dec();
      connections.delete(socket);
      fresh.get(socket)?.();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A client that went away, or half-closed in the middle of a message: nothing to answer.
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) return void socket.destroy();
    const pending = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (pending != null && pending.headersSent) {
      // An answer is already on its way. If its request was complete, the bad bytes came after it:
      // let it finish, then close. If its own body broke, cut it so the truncation shows.
      metrics.proxyErrors.inc({ kind: 'bad_request' });
      if (!pending.req.complete || pending.writableFinished) socket.destroy();
      else pending.once('close', () => socket.destroySoon());
      return;
    }
    // Otherwise the connection's byte stream turned invalid before any answer started (pipelined
    // garbage after a request is how smuggling is tried): 400 and close at once; a request still
    // waiting for its answer on this connection is aborted with it.
    const [status, reason, kind] = CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
    metrics.proxyErrors.inc({ kind });
    // The method is unknown when the head did not parse.
    metrics.httpRequests.inc(['OTHER', String(status)]);
    d.logger.debug({ code: err.code, reason: err.message }, 'rejected malformed request');
    socket.end(rawErrorResponse(status, reason, kind));
    socket.destroySoon();
  });
  return {
    server,
    stopListening() {
      // net.Server's close, not http.Server's: the latter also closes connections
      // that were just accepted and have not sent their request yet.
      net.Server.prototype.close.call(server);
      for (const [socket, state] of connections) if (state.requests > 0 && state.active === 0) socket.destroy();
    },
    closeAll() {
      server.closeAllConnections();
      for (const socket of connections.keys()) socket.destroy();
    },
  };
}

function headOf(req: http.IncomingMessage): RequestHead {
  return { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders };
}
