/**
 * The HTTP traffic listener: Node's strict parser (llhttp) in front, limits
 * and timeouts for clients, malformed requests answered 400/431 and closed,
 * requests handed to the Forwarder, upgrades to the tunnel, connections and
 * in-flight work counted for the drain.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import { rawErrorResponse } from './error-response.js';
import type { Forwarder } from './forward.js';
import type { Tunnels } from './upgrade.js';

/** Node checks header timeouts on this period; keep it well below CLIENT_HEADERS_TIMEOUT_MS. */
const MAX_CHECK_INTERVAL_MS = 1000;

const CLIENT_ERRORS: Record<string, readonly [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request_header_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout'],
};
const BAD_REQUEST = [400, 'Bad Request', 'bad_request'] as const;

export interface ProxyServerDeps {
  readonly config: Config;
  readonly forwarder: Forwarder;
  readonly tunnels: Tunnels;
  readonly inFlight: InFlight;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export function createProxyServer(d: ProxyServerDeps): http.Server {
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

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const end = d.inFlight.begin();
    res.once('close', end);
    d.forwarder.handle(req, res);
  };
  server.on('request', onRequest);
  // With a listener here Node does not answer 100 itself: the backend decides, and we relay.
  server.on('checkContinue', onRequest);
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => d.tunnels.open(req, socket, head));
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(405, 'Method Not Allowed', 'method_not_allowed'));
  });
  server.on('connection', (socket: Socket) => {
    metrics.downstreamConnectionsTotal.inc();
    metrics.downstreamConnections.inc();
    socket.once('close', () => metrics.downstreamConnections.dec());
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const [status, reason, kind] = CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
    const inProgress = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || (inProgress != null && inProgress.headersSent)) {
      socket.destroy();
      return;
    }
    metrics.proxyErrors.inc({ kind });
    d.logger.debug({ code: err.code, reason: err.message }, 'rejected malformed request');
    socket.end(rawErrorResponse(status, reason, kind));
    socket.destroySoon();
  });
  return server;
}
